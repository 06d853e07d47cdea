// Migration 0010 on a database that already has editions and rendered variants: what was made
// before keeps going out as it was (the stored subject and preheader, for every variant), and what
// is made after follows each variant's own top story.
import { afterEach, expect, it } from 'vitest';
import { migrateToLatest } from '../../db/migrate.ts';
import { databaseAt, type OlderDatabase } from '../helpers/migrations.ts';

let older: OlderDatabase | undefined;
afterEach(async () => {
  await older?.close();
});

it('keeps the subject and preheader of editions and variants made before it', async () => {
  older = await databaseAt('0009_claim_indexes');
  const { db } = older;
  const list = await db.selectFrom('lists').select('id').executeTakeFirstOrThrow();
  const at = '2026-11-30T08:00:00.000Z';
  const edition = await db
    .insertInto('editions')
    .values({ list_id: list.id, week: '2026-W48', number: 1, status: 'draft', subject: 'Weekly AI Recap #1: Chips', preheader: 'The week in chips', editor_note: null, starts_at: at, ends_at: at, created_at: at, updated_at: at })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('variants').values({ edition_id: edition.id, topics_key: 'policy', placeholder_nonce: 'abc', html: '<p>x</p>', text: 'x', html_bytes: 8, compacted: '[]', created_at: at }).execute();

  expect((await migrateToLatest(db))[0]).toBe('0010_editor_desk');
  expect(await db.selectFrom('editions').select(['subject', 'subject_by_hand', 'preheader_by_hand', 'pinned_article_id']).executeTakeFirstOrThrow()).toEqual({ subject: 'Weekly AI Recap #1: Chips', subject_by_hand: 1, preheader_by_hand: 1, pinned_article_id: null });
  expect(await db.selectFrom('variants').select(['subject', 'preheader']).executeTakeFirstOrThrow()).toEqual({ subject: 'Weekly AI Recap #1: Chips', preheader: 'The week in chips' });
  // A new edition's subject is not the editor's unless it says so.
  await db.insertInto('editions').values({ list_id: list.id, week: '2026-W49', number: 2, status: 'draft', subject: 'S', preheader: 'P', editor_note: null, starts_at: at, ends_at: at, created_at: at, updated_at: at }).execute();
  expect((await db.selectFrom('editions').select('subject_by_hand').where('week', '=', '2026-W49').executeTakeFirstOrThrow()).subject_by_hand).toBe(0);
});

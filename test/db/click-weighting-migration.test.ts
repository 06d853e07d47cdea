// Migration 0019 on a database that already counted clicks per story (0005): the counts move into
// message_clicks under the empty tag (no message), the old table goes, and most read reads them as
// before. Down again, they come back as counts per story.
import { afterEach, expect, it } from 'vitest';
import { migrateTo, migrateToLatest } from '../../db/migrate.ts';
import { databaseAt, type OlderDatabase } from '../helpers/migrations.ts';
import { mostRead } from '../../src/delivery/clicks.ts';

let older: OlderDatabase | undefined;
afterEach(async () => {
  await older?.close();
});

it('moves the counts per story into message_clicks, as clicks of no one message, and back', async () => {
  older = await databaseAt('0015_reader_choices');
  const { db } = older;
  const list = await db.selectFrom('lists').select('id').executeTakeFirstOrThrow();
  const at = '2026-11-30T08:00:00.000Z';
  const sentAt = '2026-11-30T09:00:00.000Z';
  const edition = await db
    .insertInto('editions')
    .values({ list_id: list.id, week: '2026-W48', number: 1, status: 'sent', subject: 'S', preheader: 'P', editor_note: null, starts_at: at, ends_at: at, created_at: at, updated_at: at, sent_at: sentAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  const ids: number[] = [];
  for (const title of ['Chips', 'Agents']) {
    const a = await db
      .insertInto('articles')
      .values({ canonical_url: `https://x.test/${title}`, url: `https://x.test/${title}`, title, source_name: 'X', source_url: null, published_at: null, collected_at: at, hook: 'h', score: 1, content: '{}', created_at: at, updated_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(a.id);
  }
  await db.insertInto('clicks').values([
    { edition_id: edition.id, article_id: ids[0], clicks: 7, first_at: '2026-11-30T10:00:00.000Z', last_at: '2026-12-01T10:00:00.000Z' },
    { edition_id: edition.id, article_id: ids[1], clicks: 3, first_at: '2026-11-30T11:00:00.000Z', last_at: '2026-11-30T12:00:00.000Z' },
  ]).execute();

  expect(await migrateToLatest(db)).toContain('0019_click_weighting');
  expect(await db.selectFrom('message_clicks').select(['message_tag', 'article_id', 'format', 'subject_arm', 'sent_at', 'clicks', 'first_at', 'last_at', 'scanner']).orderBy('article_id').execute()).toEqual([
    { message_tag: '', article_id: ids[0], format: 'full', subject_arm: null, sent_at: sentAt, clicks: 7, first_at: '2026-11-30T10:00:00.000Z', last_at: '2026-12-01T10:00:00.000Z', scanner: 0 },
    { message_tag: '', article_id: ids[1], format: 'full', subject_arm: null, sent_at: sentAt, clicks: 3, first_at: '2026-11-30T11:00:00.000Z', last_at: '2026-11-30T12:00:00.000Z', scanner: 0 },
  ]);
  expect(await mostRead(db, edition.id)).toEqual([{ title: 'Chips', clicks: 7 }, { title: 'Agents', clicks: 3 }]);
  await expect(db.selectFrom('clicks').selectAll().execute()).rejects.toThrow();
  expect((await db.selectFrom('lists').select('click_weighting').executeTakeFirstOrThrow()).click_weighting).toBe(1);

  // A message's clicks after the upgrade, and a scanner's: down again, the counts per story are the counted ones.
  await db.insertInto('message_clicks').values([
    { edition_id: edition.id, message_tag: 'AAAAAAAAAAAA', article_id: ids[1], format: 'brief', subject_arm: 1, sent_at: sentAt, clicks: 2, first_at: '2026-12-01T08:00:00.000Z', last_at: '2026-12-02T08:00:00.000Z', scanner: 0 },
    { edition_id: edition.id, message_tag: 'BBBBBBBBBBBB', article_id: ids[1], format: 'full', subject_arm: null, sent_at: sentAt, clicks: 9, first_at: '2026-12-01T08:00:00.000Z', last_at: '2026-12-01T08:00:00.000Z', scanner: 1 },
  ]).execute();
  await migrateTo(db, '0015_reader_choices');
  expect(await db.selectFrom('clicks').select(['article_id', 'clicks', 'first_at', 'last_at']).orderBy('article_id').execute()).toEqual([
    { article_id: ids[0], clicks: 7, first_at: '2026-11-30T10:00:00.000Z', last_at: '2026-12-01T10:00:00.000Z' },
    { article_id: ids[1], clicks: 5, first_at: '2026-11-30T11:00:00.000Z', last_at: '2026-12-02T08:00:00.000Z' },
  ]);
  expect(await db.selectFrom('message_clicks').select('message_tag').orderBy('message_tag').execute()).toEqual([{ message_tag: 'AAAAAAAAAAAA' }, { message_tag: 'BBBBBBBBBBBB' }]);
});

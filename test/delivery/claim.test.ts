// The claim of a send's next batch (src/delivery/claim.ts): due deferred deliveries first, the
// longest-waiting first, then queued ones in id order; never one not yet due, nor one in another
// state or edition. Each of its two queries reads an index in order and stops at the batch size,
// which is what keeps a claim as cheap at 100,000 queued as at 100: no sort of the whole list.
import { CompiledQuery, type Compilable } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimDue, dueDeferred, queuedInOrder } from '../../src/delivery/claim.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { onPostgres } from '../helpers/database.ts';
import { queuedEdition } from '../helpers/deliveries.ts';

let ctx: TestContext;
let editionId: number;
let ids: number[];
const NOW = '2026-11-30T08:00:00.000Z';

async function setUp(count: number): Promise<void> {
  ctx = await createTestContext({}, NOW);
  ({ editionId, ids } = await queuedEdition(ctx, count));
}

/** Claims a batch of `size`; the ids it took, in id order. Each call is a batch of its own. */
let batches = 0;
async function claimed(edition: number, size: number): Promise<number[]> {
  const token = `batch-${++batches}`;
  await claimDue(ctx.db, edition, size, NOW, token);
  return (await ctx.db.selectFrom('deliveries').select('id').where('claim_token', '=', token).orderBy('id').execute()).map((r) => r.id);
}
const sorted = (xs: Array<number | undefined>) => (xs as number[]).sort((a, b) => a - b);

async function defer(id: number | undefined, nextAttemptAt: string): Promise<void> {
  await ctx.db.updateTable('deliveries').set({ status: 'deferred', attempts: 1, next_attempt_at: nextAttemptAt }).where('id', '=', id as number).execute();
}

/** SQLite's plan for a query, one line per step. */
async function plan(query: Compilable): Promise<string[]> {
  const { sql, parameters } = query.compile();
  const rows = await ctx.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${sql}`, [...parameters]));
  return rows.rows.map((r) => r.detail);
}

afterEach(async () => {
  await ctx?.close();
});

describe('which deliveries a batch claims', () => {
  beforeEach(() => setUp(8));

  it('takes due deferred deliveries first, the longest-waiting first, then queued ones in id order', async () => {
    await defer(ids[6], '2026-11-30T07:50:00.000Z');
    await defer(ids[2], '2026-11-30T07:55:00.000Z');
    await defer(ids[4], '2026-11-30T07:40:00.000Z');
    expect(await claimed(editionId, 2)).toEqual(sorted([ids[4], ids[6]]));
    expect(await claimed(editionId, 2)).toEqual(sorted([ids[2], ids[0]]));
    expect(await claimed(editionId, 100)).toEqual(sorted([ids[1], ids[3], ids[5], ids[7]]));
    // Nothing is claimed twice.
    expect(await claimed(editionId, 100)).toEqual([]);
  });

  it('leaves deferred deliveries that are not due yet, and rows in any other state', async () => {
    await defer(ids[1], '2026-11-30T08:00:00.001Z');
    await defer(ids[3], NOW); // due at this very instant
    const states = ['claimed', 'submitted', 'failed', 'skipped', 'uncertain'] as const;
    for (const [k, status] of states.entries()) await ctx.db.updateTable('deliveries').set({ status }).where('id', '=', ids[k + 4] as number).execute();
    expect(await claimed(editionId + 1, 100)).toEqual([]);
    expect(await claimed(editionId, 1)).toEqual([ids[3]]);
    expect(await claimed(editionId, 100)).toEqual(sorted([ids[0], ids[2]]));
  });
});

// SQLite's planner and its EXPLAIN QUERY PLAN: PostgreSQL plans by its own statistics.
describe.skipIf(onPostgres)('the claim queries read an index in order (SQLite only)', () => {
  // Enough rows for the plan to matter, with statistics (ANALYZE) and without.
  beforeEach(() => setUp(3000));

  it.each([false, true])('with statistics: %s', async (analyzed) => {
    // Every seventh deferred, half of those due, half not.
    for (const [k, id] of ids.entries()) if (k % 7 === 0) await defer(id, k % 2 === 0 ? '2026-11-30T07:00:00.000Z' : '2026-11-30T09:00:00.000Z');
    if (analyzed) await ctx.db.executeQuery(CompiledQuery.raw('analyze'));
    const deferred = await plan(dueDeferred(ctx.db, editionId, NOW, 50));
    const queued = await plan(queuedInOrder(ctx.db, editionId, NOW, 50));
    expect(deferred.join('\n')).toMatch(/^SEARCH deliveries USING COVERING INDEX deliveries_edition_status_next_attempt \(edition_id=\? AND status=\? AND next_attempt_at<\?\)$/);
    expect(queued.join('\n')).toMatch(/^SEARCH deliveries USING COVERING INDEX deliveries_edition_status \(edition_id=\? AND status=\?\)$/);
  });
});

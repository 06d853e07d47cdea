// A domain that refused messages for policy reasons is paused for every sender, not only the one
// that saw the refusals: the pause is a row, read at the start of each batch.
import type { Db } from '../../db/connect.ts';

/** The domains paused at `now`, with the end of each pause (ms). */
export async function activeDomainPauses(db: Db, now: Date): Promise<Map<string, number>> {
  const rows = await db.selectFrom('domain_pauses').select(['domain', 'until']).where('until', '>', now.toISOString()).execute();
  return new Map(rows.map((r) => [r.domain, Date.parse(r.until)]));
}

export async function pauseDomain(db: Db, pause: { domain: string; until: Date; reply: string }, now: Date): Promise<void> {
  const row = { domain: pause.domain, until: pause.until.toISOString(), reply: pause.reply, created_at: now.toISOString() };
  await db.insertInto('domain_pauses').values(row).onConflict((oc) => oc.column('domain').doUpdateSet({ until: row.until, reply: row.reply, created_at: row.created_at })).execute();
}

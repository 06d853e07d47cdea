// What /healthz, /readyz and `recap health` report: whether the database answers and is migrated,
// and how the schedule daemon is doing, read from its lease (renewed every minute while it works).
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import { pendingMigrations } from '../db/migrate.ts';
import { SCHEDULER_LEASE, schedulerLease } from './delivery/lease.ts';

export interface DaemonHealth {
  /** running: a daemon renewed the lease within its lifetime; stale: the lease expired; absent: never taken, or released. */
  state: 'running' | 'stale' | 'absent';
  /** host:pid:instance:acquisition of the daemon holding the lease. */
  holder: string | null;
  /** Seconds since the holder last renewed the lease. */
  heartbeatAgeSeconds: number | null;
}

export interface Readiness {
  ready: boolean;
  database: 'ok' | 'unreachable' | 'needs migrating';
  error?: string;
  daemon?: DaemonHealth;
}

/** True when the database answers a query. */
export async function databaseAnswers(db: Db): Promise<{ ok: true } | { ok: false; error: string }> {
  try {
    await sql`select 1`.execute(db);
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/**
 * Ready: the database answers and needs no migration. The daemon's health is reported alongside;
 * it decides readiness only with `requireDaemon` (the schedule's own health check), since the
 * web pages work without a daemon.
 */
export async function readiness(db: Db, now: Date, options: { requireDaemon?: boolean } = {}): Promise<Readiness> {
  const answers = await databaseAnswers(db);
  if (!answers.ok) return { ready: false, database: 'unreachable', error: answers.error };
  try {
    const pending = await pendingMigrations(db);
    if (pending.length > 0) return { ready: false, database: 'needs migrating', error: `pending migrations: ${pending.join(', ')}` };
    const daemon = await daemonHealth(db, now);
    return { ready: !options.requireDaemon || daemon.state === 'running', database: 'ok', daemon };
  } catch (e) {
    return { ready: false, database: 'unreachable', error: (e as Error).message };
  }
}

/** The schedule daemon as its lease shows it; a renewal sets the expiry one lifetime ahead. */
export async function daemonHealth(db: Db, now: Date): Promise<DaemonHealth> {
  const lease = await schedulerLease(db, now);
  if (!lease) return { state: 'absent', holder: null, heartbeatAgeSeconds: null };
  const renewedAt = new Date(lease.expiresAt).getTime() - SCHEDULER_LEASE.ttlMs;
  return {
    state: lease.current ? 'running' : 'stale',
    holder: lease.owner,
    heartbeatAgeSeconds: Math.max(0, Math.round((now.getTime() - renewedAt) / 1000)),
  };
}

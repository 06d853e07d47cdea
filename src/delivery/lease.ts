// A lease in the database: one holder at a time for a named job (the schedule, sending an edition).
// It is renewed while working and taken over when it expires, or at once when its holder, on this
// host, is known to be gone.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '../../db/connect.ts';
import type { Clock } from '../context.ts';

export interface Lease {
  name: string;
  owner: string;
  /** False when someone else took the lease over: stop working. */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * The schedule daemon's lease: renewed every minute while it works (and during a send), taken over
 * by a standby daemon once it expires. Its expiry minus the lifetime is the last heartbeat.
 */
export const SCHEDULER_LEASE = { name: 'scheduler', ttlMs: 3 * 60_000 } as const;

/** The schedule's lease as it stands (the desk, /readyz, /metrics and `schedule status` read it); null when none was taken or it was released. */
export async function schedulerLease(db: Db, now: Date): Promise<{ owner: string; since: string | null; expiresAt: string; current: boolean } | null> {
  const held = await db.selectFrom('leases').select(['owner', 'acquired_at', 'expires_at']).where('name', '=', SCHEDULER_LEASE.name).executeTakeFirst();
  return held ? { owner: held.owner, since: held.acquired_at, expiresAt: held.expires_at, current: held.expires_at > now.toISOString() } : null;
}

export class LeaseHeldError extends Error {
  override name = 'LeaseHeldError';
}

/**
 * This process start. A pid alone does not name a process: a daemon restarted as PID 1 in a
 * container has the pid (and host name) of its previous life.
 */
export const INSTANCE_ID = randomBytes(8).toString('hex');

/** host:pid:instance: this process start, as `holderIsDead` reads it. */
export const THIS_PROCESS = `${hostname()}:${process.pid}:${INSTANCE_ID}`;

/** host:pid:instance:acquisition. Each acquisition is its own holder, even within one process. */
function newOwner(): string {
  return `${THIS_PROCESS}:${randomBytes(4).toString('hex')}`;
}

/**
 * True when the holder is known to be gone: it ran on this host (the host name is taken to name
 * one set of process ids, as a container's own host name does) and either had this process's pid
 * in an earlier process start, or had a pid that no process has now. A live process that reuses
 * the pid keeps the lease until it expires: being sure beats being quick.
 */
export function holderIsDead(owner: string): boolean {
  const [host, pid, instance] = owner.split(':');
  if (host !== hostname() || !pid) return false;
  if (Number(pid) === process.pid) return instance !== INSTANCE_ID;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export async function acquireLease(db: Db, name: string, clock: Clock, ttlMs: number): Promise<Lease> {
  const owner = newOwner();
  const expires = () => new Date(clock.now().getTime() + ttlMs).toISOString();
  // Statements that write from their start, no read-then-write transaction: with several processes
  // on SQLite such a transaction fails at once when another wrote in between, and on PostgreSQL two
  // could both read the lease as free.
  const taken = async (): Promise<boolean> => {
    const now = clock.now().toISOString();
    const inserted = await db.insertInto('leases').values({ name, owner, expires_at: expires(), acquired_at: now }).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return true;
    const held = await db.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
    if (!held) return false; // released meanwhile: try again
    if (held.expires_at > now && !holderIsDead(held.owner)) throw new LeaseHeldError(`${name} is held by ${held.owner} until ${held.expires_at}`);
    // Taken over from exactly the holder read (not renewed since): another taker, or a renewal, wins.
    const over = await db
      .updateTable('leases')
      .set({ owner, expires_at: expires(), acquired_at: now })
      .where('name', '=', name)
      .where('owner', '=', held.owner)
      .where('expires_at', '=', held.expires_at)
      .executeTakeFirst();
    if (Number(over.numUpdatedRows) !== 1) throw new LeaseHeldError(`${name} was taken by another process`);
    return true;
  };
  if (!(await taken()) && !(await taken())) throw new LeaseHeldError(`${name} was taken by another process`);
  return {
    name,
    owner,
    async renew() {
      const r = await db.updateTable('leases').set({ expires_at: expires() }).where('name', '=', name).where('owner', '=', owner).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async release() {
      await db.deleteFrom('leases').where('name', '=', name).where('owner', '=', owner).execute();
    },
  };
}

// Prometheus metrics (prom-client), computed from the database at each scrape: several `recap
// serve` processes and the daemon share one database, so no process's own counters would be the
// whole truth.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Db } from '../db/connect.ts';
import { DELIVERY_STATUSES } from '../db/schema.ts';
import type { Clock } from './context.ts';
import { daemonHealth } from './health.ts';

const BOUNCE_KINDS_COUNTED = ['hard', 'soft', 'policy'] as const;

/** A registry whose metrics query `db` when scraped. */
export function metricsRegistry(db: Db, clock: Clock): Registry {
  const registry = new Registry();
  const registers = [registry];

  new Gauge({
    name: 'recap_deliveries',
    help: 'Delivery rows by status, over every edition',
    labelNames: ['status'],
    registers,
    async collect() {
      const rows = await db.selectFrom('deliveries').select((eb) => ['status', eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
      const counts = new Map(rows.map((r) => [r.status, Number(r.n)]));
      for (const status of DELIVERY_STATUSES) this.set({ status }, counts.get(status) ?? 0);
    },
  });

  new Gauge({
    name: 'recap_send_rate_per_second',
    help: 'Messages submitted per second over the last minute',
    registers,
    async collect() {
      const minuteAgo = new Date(clock.now().getTime() - 60_000).toISOString();
      const row = await db
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'submitted')
        .where('submitted_at', '>=', minuteAgo)
        .executeTakeFirstOrThrow();
      this.set(Number(row.n) / 60);
    },
  });

  new Counter({
    name: 'recap_bounces_total',
    help: 'Bounces recorded (while sending, from reports and webhooks), by kind',
    labelNames: ['kind'],
    registers,
    async collect() {
      const counts = await bounceCounts(db);
      this.reset();
      for (const kind of BOUNCE_KINDS_COUNTED) this.inc({ kind }, counts.get(kind) ?? 0);
    },
  });

  new Counter({
    name: 'recap_complaints_total',
    help: 'Complaints (feedback reports) recorded',
    registers,
    async collect() {
      this.reset();
      this.inc((await bounceCounts(db)).get('complaint') ?? 0);
    },
  });

  new Gauge({
    name: 'recap_feed_failures',
    help: 'Failed polls in a row of each feed (0 after a success)',
    labelNames: ['url'],
    registers,
    async collect() {
      this.reset();
      for (const f of await db.selectFrom('feeds').select(['url', 'failures']).execute()) this.set({ url: f.url }, f.failures);
    },
  });

  new Gauge({
    name: 'recap_lease_holder',
    help: 'Leases held (the schedule, the send of an edition): 1 per holder whose lease has not expired',
    labelNames: ['name', 'owner'],
    registers,
    async collect() {
      this.reset();
      const rows = await db.selectFrom('leases').select(['name', 'owner']).where('expires_at', '>', clock.now().toISOString()).execute();
      for (const l of rows) this.set({ name: l.name, owner: l.owner }, 1);
    },
  });

  new Gauge({
    name: 'recap_scheduler_heartbeat_age_seconds',
    help: 'Seconds since the schedule daemon holding the lease last renewed it (absent when none holds it)',
    labelNames: ['owner'],
    registers,
    async collect() {
      this.reset();
      const daemon = await daemonHealth(db, clock.now());
      if (daemon.holder !== null && daemon.heartbeatAgeSeconds !== null) this.set({ owner: daemon.holder }, daemon.heartbeatAgeSeconds);
    },
  });

  new Gauge({
    name: 'recap_last_successful_run_timestamp_seconds',
    help: 'When the last edition finished sending, labelled with its week (Unix time; absent before the first)',
    labelNames: ['week'],
    registers,
    async collect() {
      this.reset();
      const last = await db.selectFrom('editions').select(['week', 'sent_at']).where('sent_at', 'is not', null).orderBy('sent_at', 'desc').limit(1).executeTakeFirst();
      if (last?.sent_at) this.set({ week: last.week }, new Date(last.sent_at).getTime() / 1000);
    },
  });

  return registry;
}

async function bounceCounts(db: Db): Promise<Map<string, number>> {
  const rows = await db.selectFrom('bounces').select((eb) => ['kind', eb.fn.countAll<number>().as('n')]).groupBy('kind').execute();
  return new Map(rows.map((r) => [r.kind, Number(r.n)]));
}

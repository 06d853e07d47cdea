// One send of the bench, in a process of its own so its CPU time and peak memory are the sender's
// alone: what `recap digest send --week …` runs (runWeeklyRecap with the CLI's transport), with
// the configuration the bench passes in the environment. Reports its figures to the parent.
import { openDb } from '../db/connect.ts';
import { loadConfig, requireSecret } from '../src/config.ts';
import { systemClock, systemSleep } from '../src/context.ts';
import { createTransport } from '../src/delivery/transport.ts';
import { runWeeklyRecap } from '../src/recap.ts';

export interface SendFigures {
  week: string;
  enqueued: number;
  submitted: number;
  notSubmitted: Record<string, number>;
  variants: number;
  /** From the start of the run to the first message: edition, enqueue, lease, recovery. */
  beforeFirstMessageMs: number;
  totalMs: number;
  userCpuSeconds: number;
  systemCpuSeconds: number;
  peakRssBytes: number;
  errors: Array<{ email: string; error: string }>;
}

const week = process.argv[2];
if (!week || !process.send) throw new Error('bench/send.ts is started by bench/run.ts');

const config = loadConfig();
const db = openDb(config.databaseUrl);
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop.abort());
try {
  const started = performance.now();
  let firstProgress: number | undefined;
  const report = await runWeeklyRecap(
    { db, config, clock: systemClock },
    {
      transport: () => createTransport(config),
      secret: requireSecret(config),
      sleep: systemSleep,
      log: (line) => process.stderr.write(`${line}\n`),
      // Called with (0, total) once the deliveries are queued and before the first is claimed.
      onProgress: () => (firstProgress ??= performance.now()),
      signal: stop.signal,
      waitForRetries: false,
    },
    { week },
  );
  const totalMs = performance.now() - started;
  if (report.kind !== 'sent') throw new Error(`edition ${week}: ${report.kind === 'too-few-stories' ? report.reason : 'not sent'}`);
  const usage = process.resourceUsage();
  const { submitted, ...rest } = report.counts;
  const figures: SendFigures = {
    week,
    enqueued: report.enqueued,
    submitted,
    notSubmitted: Object.fromEntries(Object.entries(rest).filter(([, n]) => n > 0)),
    variants: report.outcome.variants.length,
    beforeFirstMessageMs: (firstProgress ?? started) - started,
    totalMs,
    userCpuSeconds: usage.userCPUTime / 1e6,
    systemCpuSeconds: usage.systemCPUTime / 1e6,
    peakRssBytes: usage.maxRSS * 1024,
    errors: report.outcome.errors,
  };
  // Delivered before the process ends, then the channel is let go so the process can exit.
  await new Promise<void>((resolve, reject) => process.send?.(figures, undefined, {}, (e) => (e ? reject(e) : resolve())));
  process.disconnect?.();
} finally {
  await db.destroy();
}

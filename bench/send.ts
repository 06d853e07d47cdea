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
  /** Sampled every 250 ms: the main thread's V8 heap and the memory outside it (Buffers) when RSS was highest. */
  atPeak: { rssBytes: number; heapUsedBytes: number; externalBytes: number; arrayBuffersBytes: number };
  errors: Array<{ email: string; error: string }>;
}

const week = process.argv[2];
if (!week || !process.send) throw new Error('bench/send.ts is started by bench/run.ts');

const config = loadConfig();
const db = openDb(config.databaseUrl);
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop.abort());
// Worker threads' heaps show in RSS only: the main thread's figures tell how much is theirs.
let atPeak = { rssBytes: 0, heapUsedBytes: 0, externalBytes: 0, arrayBuffersBytes: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > atPeak.rssBytes) atPeak = { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers };
}, 250);
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
    atPeak,
    errors: report.outcome.errors,
  };
  // Delivered before the process ends, then the channel is let go so the process can exit.
  await new Promise<void>((resolve, reject) => process.send?.(figures, undefined, {}, (e) => (e ? reject(e) : resolve())));
  process.disconnect?.();
} finally {
  clearInterval(sampler);
  await db.destroy();
}

// One `recap worker --once` of the bench's --workers runs, in a process of its own (several at a
// time on one database): what `recap worker` runs, with the configuration the bench passes in the
// environment. Reports its figures to the parent.
import { openDb } from '../db/connect.ts';
import { loadConfig, requireSecret } from '../src/config.ts';
import { systemClock, systemSleep } from '../src/context.ts';
import { createTransport } from '../src/delivery/transport.ts';
import { createLog } from '../src/log.ts';
import { runWorker } from '../src/worker.ts';

export interface WorkerFigures {
  submitted: number;
  notSubmitted: number;
  totalMs: number;
  cpuSeconds: number;
  peakRssBytes: number;
}

if (!process.send) throw new Error('bench/worker.ts is started by bench/run.ts');

const config = loadConfig();
const db = openDb(config.databaseUrl);
try {
  const started = performance.now();
  const log = createLog({ ...config, logLevel: 'warn' }, systemClock);
  const io = { transport: () => createTransport(config), secret: requireSecret(config), sleep: systemSleep, log: () => {} };
  const t = await runWorker({ db, config, clock: systemClock }, io, log, { once: true, pollMs: 100 });
  const usage = process.resourceUsage();
  const figures: WorkerFigures = {
    submitted: t.submitted,
    notSubmitted: t.deferred + t.failed + t.uncertain,
    totalMs: performance.now() - started,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    peakRssBytes: usage.maxRSS * 1024,
  };
  await new Promise<void>((resolve, reject) => process.send?.(figures, undefined, {}, (e) => (e ? reject(e) : resolve())));
  process.disconnect?.();
} finally {
  await db.destroy();
}

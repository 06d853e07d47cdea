// A send's progress in the daemon's log: a line at every tenth of the way and at least every 30 s,
// with what was submitted, deferred and failed, the rate and the time left. The send reports per
// batch (a batch can take minutes at a low RECAP_RATE); its counts move with every delivery, so a
// one-second timer looks at them in between.
import type { Clock } from '../context.ts';
import type { SendOutcome } from '../delivery/send.ts';
import type { Log } from '../log.ts';

type Counts = Pick<SendOutcome, 'submitted' | 'deferred' | 'failed' | 'skipped' | 'uncertain' | 'requeued'>;

export interface SendProgressLog {
  onProgress(done: number, total: number, counts?: Counts): void;
  stop(): void;
}

export function sendProgressLog(log: Log, clock: Clock, everyMs = 30_000): SendProgressLog {
  let counts: Counts | undefined;
  let total = 0;
  let startedAt = 0;
  let lastAt = 0;
  let lastTenth = -1;
  let timer: NodeJS.Timeout | undefined;

  const check = () => {
    if (!counts || total === 0) return;
    const done = Math.min(total, counts.submitted + counts.deferred + counts.failed + counts.skipped + counts.uncertain + counts.requeued);
    const now = clock.now().getTime();
    const tenth = Math.floor((done / total) * 10);
    if (tenth === lastTenth && now - lastAt < everyMs) return;
    lastTenth = tenth;
    lastAt = now;
    const seconds = Math.max(0.001, (now - startedAt) / 1000);
    const rate = counts.submitted / seconds;
    const etaSeconds = done > 0 ? Math.round(((total - done) * seconds) / done) : null;
    const percent = Math.floor((done / total) * 100);
    log.info(
      { progress: { done, total, submitted: counts.submitted, deferred: counts.deferred, failed: counts.failed, ratePerSecond: Number(rate.toFixed(2)), etaSeconds } },
      `sending: ${done}/${total} (${percent}%): ${counts.submitted} submitted, ${counts.deferred} deferred, ${counts.failed} failed; ` +
        `${rate.toFixed(1)}/s${etaSeconds === null ? '' : `, about ${etaSeconds} s left`}`,
    );
  };

  return {
    onProgress(_done, newTotal, newCounts) {
      // A new send (its own counts): start over.
      if (newCounts && newCounts !== counts) {
        counts = newCounts;
        startedAt = clock.now().getTime();
        lastAt = startedAt;
        lastTenth = -1;
        timer ??= setInterval(check, 1000).unref();
      }
      total = newTotal;
      check();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

// A send's progress in the daemon's log: a line at each tenth of the way, and one at least every
// 30 s in between, read from the send's live counts.
import { expect, it } from 'vitest';
import { sendProgressLog } from '../../src/schedule/send-progress.ts';
import { createTestContext } from '../helpers/context.ts';
import { testLog } from '../helpers/send.ts';

it('logs each tenth and, between them, every 30 s, with the counts, the rate and the time left', async () => {
  const ctx = await createTestContext();
  try {
    const { log, lines } = testLog(ctx);
    const progress = sendProgressLog(log, ctx.clock);
    const counts = { submitted: 0, deferred: 0, failed: 0, skipped: 0, uncertain: 0, requeued: 0 };
    const at = (seconds: number, submitted: number, deferred = 0) => {
      ctx.clock.set(new Date(Date.parse('2026-11-30T08:00:00Z') + seconds * 1000).toISOString());
      counts.submitted = submitted;
      counts.deferred = deferred;
      progress.onProgress(submitted + deferred, 1000, counts);
    };
    at(0, 0);
    at(20, 50); // not a tenth yet, and not 30 s
    at(31, 80, 2); // 31 s since the last line
    at(40, 99, 1); // a tenth: 100 done
    at(45, 120, 1); // neither
    progress.stop();
    expect(lines.map((l) => l.slice(25))).toEqual([
      'INFO  sending: 0/1000 (0%): 0 submitted, 0 deferred, 0 failed; 0.0/s',
      'INFO  sending: 82/1000 (8%): 80 submitted, 2 deferred, 0 failed; 2.6/s, about 347 s left',
      'INFO  sending: 100/1000 (10%): 99 submitted, 1 deferred, 0 failed; 2.5/s, about 360 s left',
    ]);
  } finally {
    await ctx.close();
  }
});

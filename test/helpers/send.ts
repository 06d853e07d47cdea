// How tests run the weekly job: the real transport they choose, the test secret, and waiting that
// moves the test clock instead of the wall clock.
import type { Transport } from '../../src/delivery/transport.ts';
import { createLog, type Log } from '../../src/log.ts';
import type { SendIo } from '../../src/recap.ts';
import { TEST_SECRET, type TestContext } from './context.ts';

export function testIo(ctx: TestContext, transport: () => Transport, extra: Partial<SendIo> = {}): SendIo & { logs: string[] } {
  const logs: string[] = [];
  return {
    transport,
    secret: TEST_SECRET,
    sleep: async (ms) => ctx.clock.advance(ms),
    log: (line) => logs.push(line),
    logs,
    ...extra,
  };
}

/** The daemon's log as plain text lines, kept for a test (errors among them, as on stderr). */
export function testLog(ctx: TestContext): { log: Log; lines: string[] } {
  const lines: string[] = [];
  const keep = { write: (line: string) => lines.push(line.trimEnd()) };
  return { log: createLog({ logFormat: 'text', logLevel: 'debug' }, ctx.clock, { out: keep, err: keep }), lines };
}

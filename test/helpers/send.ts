// How tests run the weekly job: the real transport they choose, the test secret, and waiting that
// moves the test clock instead of the wall clock.
import type { Transport } from '../../src/delivery/transport.ts';
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

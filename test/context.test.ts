// The clock a command runs on: the system's, or one started at RECAP_CLOCK_START (tests of the CLI
// as a process) that runs on in real time.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { processClock, systemClock } from '../src/context.ts';

describe('the process clock', () => {
  it('is the system clock unless RECAP_CLOCK_START is set', () => {
    expect(processClock(loadConfig({}))).toBe(systemClock);
  });

  it('starts at RECAP_CLOCK_START and runs on in real time', async () => {
    const clock = processClock(loadConfig({ RECAP_CLOCK_START: '2026-11-30T09:00:00+01:00' }));
    const first = clock.now().getTime();
    expect(first - Date.parse('2026-11-30T08:00:00Z')).toBeGreaterThanOrEqual(0);
    expect(first - Date.parse('2026-11-30T08:00:00Z')).toBeLessThan(1_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(clock.now().getTime() - first).toBeGreaterThanOrEqual(45);
  });

  it('names RECAP_CLOCK_START when it is not an instant', () => {
    expect(() => loadConfig({ RECAP_CLOCK_START: 'next Monday' })).toThrow(/RECAP_CLOCK_START: is not an ISO 8601 instant/);
    expect(() => loadConfig({ RECAP_CLOCK_START: '2026-11-30T09:00:00' })).toThrow(/RECAP_CLOCK_START/);
  });
});

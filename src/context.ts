// What every operation is given: the database, the configuration and the clock. Tests build one
// with a temp database and a fixed clock; nothing reaches for globals.
import { setTimeout as delay } from 'node:timers/promises';
import type { Db } from '../db/connect.ts';
import type { Config } from './config.ts';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * The clock of a command: the system's, or, with RECAP_CLOCK_START (for tests of the CLI as a
 * process), one that starts at that instant and runs on in real time, so that "the week that ended
 * last" and the schedule's catch-up do not depend on the day the tests run.
 */
export function processClock(config: Pick<Config, 'clockStart'>): Clock {
  if (!config.clockStart) return systemClock;
  const offset = config.clockStart.getTime() - Date.now();
  return { now: () => new Date(Date.now() + offset) };
}

/** Waits `ms`, or less when `signal` aborts first: a stop request never waits out a timer. */
export async function systemSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  }
}

export interface Context {
  db: Db;
  config: Config;
  clock: Clock;
}

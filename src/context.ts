// What every operation is given: the database, the configuration and the clock. Tests build one
// with a temp database and a fixed clock; nothing reaches for globals.
import type { Db } from '../db/connect.ts';
import type { Config } from './config.ts';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface Context {
  db: Db;
  config: Config;
  clock: Clock;
}

// The daemon's log: pino, one line per event, each with its time (the process's clock) and level;
// info and below on stdout, errors on stderr. RECAP_LOG_FORMAT=json writes pino's JSON lines as
// they are; text (the default) turns each of pino's lines into a plain one in pino's own
// `streamWrite` hook, just before it is written — so the levels, fields and error serializing stay
// pino's, with no second logger (pino-pretty) or worker thread that could lose the last lines on exit.
import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';
import type { Clock } from './context.ts';
import { terminalSafe } from './plain-text.ts';

export type Log = Logger;

export interface LogStreams {
  out: { write(line: string): unknown };
  err: { write(line: string): unknown };
}

export function createLog(config: Pick<Config, 'logFormat' | 'logLevel'>, clock: Clock, streams: LogStreams = { out: process.stdout, err: process.stderr }): Log {
  return pino(
    {
      level: config.logLevel,
      base: undefined,
      messageKey: 'msg',
      timestamp: () => `,"time":"${clock.now().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      ...(config.logFormat === 'text' ? { hooks: { streamWrite: textLine } } : {}),
    },
    // dedupe: a line goes to the stream of the highest level it reaches, so an error is not on both.
    pino.multistream([{ level: 'debug', stream: streams.out }, { level: 'error', stream: streams.err }], { dedupe: true }),
  );
}

/**
 * `2026-11-30T09:00:00.000Z INFO  message` from one of pino's JSON lines. The messages say it all
 * in words; the fields beside them (counts, URLs, the error's stack) are for the JSON lines.
 */
export function textLine(json: string): string {
  const { time, level, msg, err } = JSON.parse(json) as { time: string; level: string; msg?: string; err?: { message?: string } };
  const error = err?.message && !msg?.includes(err.message) ? `: ${err.message}` : '';
  // One event, one line: a line break in stored text (a title, a reply) would start a false one.
  return `${terminalSafe(`${time} ${level.toUpperCase().padEnd(5)} ${msg ?? ''}${error}`.replace(/\s*[\r\n]+\s*/g, ' '))}\n`;
}

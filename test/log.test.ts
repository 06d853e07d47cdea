// The daemon's log (src/log.ts): each event one line, with its time (the clock given) and level;
// errors on the error stream only; plain text or JSON lines; RECAP_LOG_LEVEL filters.
import { describe, expect, it } from 'vitest';
import { createLog } from '../src/log.ts';

const clock = { now: () => new Date('2026-11-30T09:00:00.000Z') };

function capture(format: 'text' | 'json', level: 'debug' | 'info' | 'warn' | 'error' = 'info') {
  const out: string[] = [];
  const err: string[] = [];
  const log = createLog({ logFormat: format, logLevel: level }, clock, { out: { write: (l: string) => out.push(l) }, err: { write: (l: string) => err.push(l) } });
  return { log, out, err };
}

describe('the log', () => {
  it('writes plain text lines, info and warnings on stdout, errors on stderr only', () => {
    const { log, out, err } = capture('text');
    log.info({ feeds: 2 }, 'schedule started');
    log.warn('feed https://a.example/rss: failed (HTTP 500 Internal Server Error)');
    log.error({ err: new Error('disk full') }, 'weekly run failed');
    log.info('a title with \u001b[31man escape\u001b[0m\nand a line break');
    expect(out).toEqual([
      '2026-11-30T09:00:00.000Z INFO  schedule started\n',
      '2026-11-30T09:00:00.000Z WARN  feed https://a.example/rss: failed (HTTP 500 Internal Server Error)\n',
      '2026-11-30T09:00:00.000Z INFO  a title with  [31man escape [0m and a line break\n',
    ]);
    expect(err).toEqual(['2026-11-30T09:00:00.000Z ERROR weekly run failed: disk full\n']);
  });

  it('writes JSON lines with RECAP_LOG_FORMAT=json: time, level, message and the fields, an error with its stack', () => {
    const { log, out, err } = capture('json');
    log.info({ feeds: 2 }, 'schedule started');
    log.error({ err: new Error('disk full') }, 'weekly run failed');
    expect(out.map((l) => JSON.parse(l))).toEqual([{ time: '2026-11-30T09:00:00.000Z', level: 'info', feeds: 2, msg: 'schedule started' }]);
    expect(err).toHaveLength(1);
    const line = JSON.parse(err[0] as string);
    expect(line).toMatchObject({ time: '2026-11-30T09:00:00.000Z', level: 'error', msg: 'weekly run failed', err: { message: 'disk full' } });
    expect(line.err.stack).toContain('log.test.ts');
  });

  it('keeps only what RECAP_LOG_LEVEL asks for', () => {
    const { log, out, err } = capture('text', 'warn');
    log.debug('detail');
    log.info('progress');
    log.warn('a feed failed');
    log.error('a run failed');
    expect(out.map((l) => l.slice(25))).toEqual(['WARN  a feed failed\n']);
    expect(err.map((l) => l.slice(25))).toEqual(['ERROR a run failed\n']);
  });
});

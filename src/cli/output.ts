// How commands talk: results on stdout, progress and errors on stderr. A progress bar on a
// terminal, one plain line per step otherwise (cron logs, CI).
import { SingleBar } from 'cli-progress';
import { terminalSafe } from '../plain-text.ts';

export const EXIT = {
  ok: 0,
  /** Some records or deliveries failed; the rest were kept or sent. */
  partial: 1,
  /** Bad usage, configuration or input file. */
  usage: 2,
  /** Nothing to send: the week has too few stories. */
  tooFewStories: 3,
  /** Sending stopped before the end: paused after a run of failures, by the operator, or by a signal. */
  stopped: 4,
} as const;

// Lines carry stored text (titles, subjects, replies): no escape sequence in it reaches the terminal.
export function say(line = ''): void {
  process.stdout.write(`${terminalSafe(line)}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`${terminalSafe(line)}\n`);
}

export function kb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Left-aligned columns, for lists people read. */
export function table(rows: string[][]): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, [...cell].length)), []);
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function progress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} {percentage}% · {eta_formatted} left`, stream, hideCursor: true });
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, done);
          started = true;
        } else bar.update(done);
      },
      stop: () => started && bar.stop(),
    };
  }
  let lastTenth = -1;
  return {
    update(done, total) {
      if (total === 0) return;
      const tenth = Math.floor((done / total) * 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${label}: ${done}/${total} (${Math.round((done / total) * 100)}%)\n`);
    },
    stop() {},
  };
}

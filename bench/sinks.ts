// Where the bench's mail goes: Postfix's smtp-sink (a C server that takes mail as fast as the wire
// allows and throws it away) when it is installed, otherwise smtp-server in this process; and
// Postfix's smtp-source, the C load generator that says what the wire allows.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export const POSTFIX_INSTALL =
  'echo "postfix postfix/main_mailer_type select No configuration" | sudo debconf-set-selections && sudo apt-get install -y postfix';

export interface Sink {
  kind: 'postfix' | 'inprocess';
  /** How it was started, for the results. */
  description: string;
  port: number;
  /** Bytes the sink has read so far (messages and SMTP commands), or null when it cannot tell. */
  bytesRead(): number | null;
  /** What bytesRead counts. */
  bytesMeaning: string;
  close(): Promise<void>;
}

/** The path of a Postfix tool (PATH, then /usr/sbin where Debian puts them), or null. */
export function findPostfixTool(name: 'smtp-sink' | 'smtp-source'): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`smtp-sink exited with code ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`smtp-sink did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** smtp-sink on a free loopback port; it keeps nothing (no -d/-D), so nothing touches the disk. */
export async function startPostfixSink(path: string): Promise<Sink> {
  const port = await freePort();
  // As root smtp-sink refuses to run unless told which user to become.
  const args = [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), '-m', '512', `127.0.0.1:${port}`, '1024'];
  const child = spawn(path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitForPort(port, child);
  } catch (e) {
    child.kill();
    throw new Error(`${(e as Error).message}${stderr ? `: ${stderr.trim()}` : ''}`);
  }
  return {
    kind: 'postfix',
    description: `${path} ${args.join(' ')}`,
    port,
    // Linux counts every byte a process reads; the sink reads nothing but its sockets.
    bytesRead() {
      try {
        const io = readFileSync(`/proc/${child.pid}/io`, 'utf8');
        const match = /^rchar:\s*(\d+)/m.exec(io);
        return match ? Number(match[1]) : null;
      } catch {
        return null;
      }
    },
    bytesMeaning: 'bytes smtp-sink read (/proc/PID/io rchar): messages plus SMTP commands',
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** smtp-server in this process, counting the bytes of every message it takes. */
export async function startInProcessSink(): Promise<Sink> {
  let bytes = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, _session, callback) {
      stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
      stream.on('end', () => callback());
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port));
  });
  return {
    kind: 'inprocess',
    description: 'smtp-server (npm) in the bench process',
    port,
    bytesRead: () => bytes,
    bytesMeaning: 'message bytes the in-process sink took in DATA',
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface SourceResult {
  command: string;
  messages: number;
  messageBytes: number;
  sessions: number;
  seconds: number;
  msgsPerSecond: number;
}

/**
 * smtp-source sending `messages` messages of `bytes` each over `sessions` connections kept open
 * (-d), like a connection pool, to the sink.
 */
export async function runSmtpSource(path: string, opts: { port: number; sessions: number; messages: number; bytes: number }): Promise<SourceResult> {
  const args = ['-d', '-s', String(opts.sessions), '-m', String(opts.messages), '-l', String(opts.bytes), '-f', 'recap@example.com', '-t', 'reader@inbox.example', `127.0.0.1:${opts.port}`];
  const started = performance.now();
  const child = spawn(path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`smtp-source exited with code ${code}: ${stderr.trim()}`);
  return { command: `${path} ${args.join(' ')}`, messages: opts.messages, messageBytes: opts.bytes, sessions: opts.sessions, seconds, msgsPerSecond: opts.messages / seconds };
}

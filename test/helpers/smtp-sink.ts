// A real SMTP server on loopback (smtp-server, the library nodemailer's own tests use) that keeps
// every message it accepts, keyed by recipient, and can be scripted per recipient and per attempt:
// refuse at RCPT or after DATA with any reply, drop the connection in the middle of DATA, take the
// whole message and cut the connection without a reply, or stall. It can speak STARTTLS or smtps
// with the test certificate (test/fixtures/tls/), require AUTH, and hide PIPELINING.
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: string;
  /** The message as it came out of DATA (dot-stuffing undone), byte for byte. */
  bytes: Buffer;
}

export type SinkAction =
  | 'accept'
  | { rcpt: { code: number; message: string } }
  | { data: { code: number; message: string } }
  /** Close the connection half-way through the message. */
  | 'drop'
  /** Take the whole message, then close the connection without a reply. */
  | 'cut-after-dot'
  /** Take the message and never answer. */
  | 'stall'
  /** Never answer the RCPT command. */
  | 'stall-at-rcpt'
  /** Take the recipient once this has settled, not before. */
  | { acceptAfter: Promise<unknown> };

export interface SmtpSink {
  url: string;
  port: number;
  messages: ReceivedMessage[];
  /** Messages per recipient address. */
  byRecipient(): Map<string, ReceivedMessage[]>;
  /** RCPT attempts per recipient address. */
  attempts: Map<string, number>;
  /** Recipients of the messages taken in full and then cut off without a reply ('cut-after-dot'). */
  cut: string[];
  /** The client's commands as they came over the wire (MAIL FROM, RCPT TO …), all sessions together. */
  commands: string[];
  /** The same, one list per session (connections in parallel interleave in `commands`). */
  sessions: Map<string, string[]>;
  /** Every login: the mechanism, the user, and whether the session was under TLS by then. */
  logins: Array<{ method: string; user: string; secure: boolean }>;
  close(): Promise<void>;
}

type Script = (rcpt: string, attempt: number) => SinkAction;

export interface SinkOptions {
  reject?: (rcpt: string) => { code: number; message: string } | undefined;
  script?: Script;
  /** Require AUTH and accept the login when this says so (URL: smtp://user:pass@…). */
  login?: (user: string, pass: string) => boolean;
  /** Announce SMTPUTF8 (RFC 6531); true by default. */
  smtpUtf8?: boolean;
  /** Take quoted local parts ("john..doe"@…), as Postfix does; smtp-server's strict parser refuses them. */
  quotedLocalParts?: boolean;
  /** Offer STARTTLS, or speak TLS from the start (smtps), with the test certificate. */
  tls?: 'starttls' | 'smtps';
  /** Announce PIPELINING (RFC 2920); true by default. */
  pipelining?: boolean;
  /** Close a connection idle this long, with a 421 (as relays do). */
  idleTimeoutMs?: number;
  /** Announce SIZE with this limit (RFC 1870), and refuse a MAIL FROM that declares more. */
  size?: number;
  /** The AUTH mechanisms offered (smtp-server's default: PLAIN and LOGIN). */
  authMethods?: string[];
  /** Called when a message has come in full (its final dot read), before any reply. */
  onMessage?: (rcpts: string[]) => void;
  /** Keep only each message's first 16 KiB (its header block): for tests of many messages that count copies. */
  keep?: 'all' | 'head';
}

/** The test certificate (CN localhost, for 127.0.0.1 too); pass TEST_CA as SMTP_TLS_CA to trust it. */
export const TEST_CA = new URL('../fixtures/tls/cert.pem', import.meta.url).pathname;
const TEST_KEY = new URL('../fixtures/tls/key.pem', import.meta.url).pathname;

export async function startSmtpSink(options: SinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMessage[] = [];
  const commands: string[] = [];
  const logins: SmtpSink['logins'] = [];
  const cut: string[] = [];
  // smtp-server logs each client command at debug level; that is the raw envelope (its onRcptTo sees domains decoded to Unicode).
  const quiet = () => {};
  const sessions = new Map<string, string[]>();
  const logger = {
    trace: quiet, info: quiet, warn: quiet, error: quiet, fatal: quiet,
    debug: (meta: { cid?: string }, tag: string, line: string) => {
      if (tag !== 'C:') return;
      commands.push(String(line));
      sessions.set(meta.cid ?? '', [...(sessions.get(meta.cid ?? '') ?? []), String(line)]);
    },
  };
  const attempts = new Map<string, number>();
  const pending = new Map<string, SinkAction>(); // session id → action for its message
  const script: Script = options.script ?? ((rcpt) => {
    const refusal = options.reject?.(rcpt);
    return refusal ? { rcpt: refusal } : 'accept';
  });
  const fail = (r: { code: number; message: string }) => Object.assign(new Error(r.message), { responseCode: r.code });
  const login = options.login;
  const tls = options.tls;
  const server: SMTPServer = new SMTPServer({
    authOptional: !login,
    disabledCommands: [...(tls === 'starttls' ? [] : ['STARTTLS']), ...(login ? [] : ['AUTH'])],
    ...(tls ? { key: readFileSync(TEST_KEY), cert: readFileSync(TEST_CA), secure: tls === 'smtps' } : {}),
    hidePIPELINING: options.pipelining === false,
    ...(options.authMethods ? { authMethods: options.authMethods } : {}),
    ...(options.size ? { size: options.size } : {}),
    ...(options.idleTimeoutMs ? { socketTimeout: options.idleTimeoutMs } : {}),
    // Plain-text AUTH on loopback, for tests only.
    allowInsecureAuth: true,
    onAuth(auth, session, callback) {
      logins.push({ method: auth.method, user: auth.username ?? '', secure: session.secure });
      if (login?.(auth.username ?? '', auth.password ?? '')) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    hideSMTPUTF8: options.smtpUtf8 === false,
    lenientAddressParsing: options.quotedLocalParts === true,
    logger,
    onRcptTo(address: SMTPServerAddress, session, callback) {
      const attempt = (attempts.get(address.address) ?? 0) + 1;
      attempts.set(address.address, attempt);
      const action = script(address.address, attempt);
      if (action === 'stall-at-rcpt') return;
      if (typeof action === 'object' && 'acceptAfter' in action) {
        void action.acceptAfter.finally(() => {
          pending.set(session.id, 'accept');
          callback();
        });
        return;
      }
      if (typeof action === 'object' && 'rcpt' in action) {
        callback(fail(action.rcpt));
        return;
      }
      pending.set(session.id, action);
      callback();
    },
    onData(stream, session, callback) {
      const action = pending.get(session.id) ?? 'accept';
      pending.delete(session.id);
      const chunks: Buffer[] = [];
      if (action === 'drop') {
        stream.once('data', () => {
          const connection = [...(server as unknown as { connections: Set<{ id: string; _socket: Socket }> }).connections].find((c) => c.id === session.id);
          connection?._socket.destroy();
        });
        stream.resume();
        return;
      }
      let kept = 0;
      const limit = options.keep === 'head' ? 16_384 : Infinity;
      stream.on('data', (c: Buffer) => {
        if (kept >= limit) return;
        chunks.push(c);
        kept += c.length;
      });
      stream.on('end', () => {
        options.onMessage?.(session.envelope.rcptTo.map((r) => r.address));
        if (action === 'stall') return;
        if (action === 'cut-after-dot') {
          cut.push(...session.envelope.rcptTo.map((r) => r.address));
          // The whole message arrived; the client never hears whether it was taken.
          const connection = [...(server as unknown as { connections: Set<{ id: string; _socket: Socket }> }).connections].find((c) => c.id === session.id);
          connection?._socket.destroy();
          return;
        }
        if (typeof action === 'object' && 'data' in action) {
          callback(fail(action.data));
          return;
        }
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          bytes: Buffer.concat(chunks),
        });
        callback(null, 'Queued as test');
      });
    },
  });
  // A client killed mid-message resets its connection; that is the client's business, not a test failure.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `${tls === 'smtps' ? 'smtps' : 'smtp'}://127.0.0.1:${port}`,
    port,
    messages,
    attempts,
    cut,
    commands,
    sessions,
    logins,
    byRecipient() {
      const map = new Map<string, ReceivedMessage[]>();
      for (const m of messages) for (const to of m.to) map.set(to, [...(map.get(to) ?? []), m]);
      return map;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of (server as unknown as { connections: Set<{ _socket: Socket }> }).connections) c._socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port with nothing listening on it: connecting is refused. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server that takes connections and never greets. */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TCP relay in front of `port` that records what the client wrote, one entry per packet read
 * (on loopback, one write of the client arrives as one read), and counts the connections.
 */
export async function startRecordingProxy(port: number): Promise<{
  url: string;
  packets: string[];
  connections: () => number;
  dropAll(): void;
  /** The next packet that matches is not passed on: its connection is closed instead, unanswered. */
  swallowNext(pattern: RegExp): void;
  close(): Promise<void>;
}> {
  const packets: string[] = [];
  let swallow: RegExp | undefined;
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    connections++;
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d: Buffer) => {
      packets.push(d.toString('utf8'));
      if (swallow?.test(d.toString('utf8'))) {
        swallow = undefined;
        client.destroy();
        return;
      }
      upstream.write(d);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${own}`,
    packets,
    connections: () => connections,
    swallowNext: (pattern) => {
      swallow = pattern;
    },
    dropAll: () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

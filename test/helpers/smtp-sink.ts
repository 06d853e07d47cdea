// A real SMTP server on loopback (smtp-server, the library nodemailer's own tests use) that keeps
// every message it accepts, keyed by recipient, and can be scripted per recipient and per attempt:
// refuse at RCPT or after DATA with any reply, drop the connection in the middle of DATA, or stall.
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: string;
}

export type SinkAction =
  | 'accept'
  | { rcpt: { code: number; message: string } }
  | { data: { code: number; message: string } }
  /** Close the connection half-way through the message. */
  | 'drop'
  /** Take the message and never answer. */
  | 'stall';

export interface SmtpSink {
  url: string;
  port: number;
  messages: ReceivedMessage[];
  /** Messages per recipient address. */
  byRecipient(): Map<string, ReceivedMessage[]>;
  /** RCPT attempts per recipient address. */
  attempts: Map<string, number>;
  /** The client's commands as they came over the wire (MAIL FROM, RCPT TO …). */
  commands: string[];
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
}

export async function startSmtpSink(options: SinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMessage[] = [];
  const commands: string[] = [];
  // smtp-server logs each client command at debug level; that is the raw envelope (its onRcptTo sees domains decoded to Unicode).
  const quiet = () => {};
  const logger = { trace: quiet, info: quiet, warn: quiet, error: quiet, fatal: quiet, debug: (_meta: unknown, tag: string, line: string) => tag === 'C:' && commands.push(String(line)) };
  const attempts = new Map<string, number>();
  const pending = new Map<string, SinkAction>(); // session id → action for its message
  const script: Script = options.script ?? ((rcpt) => {
    const refusal = options.reject?.(rcpt);
    return refusal ? { rcpt: refusal } : 'accept';
  });
  const fail = (r: { code: number; message: string }) => Object.assign(new Error(r.message), { responseCode: r.code });
  const login = options.login;
  const server: SMTPServer = new SMTPServer({
    authOptional: !login,
    disabledCommands: login ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    // Plain-text AUTH on loopback, for tests only.
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
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
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (action === 'stall') return;
        if (typeof action === 'object' && 'data' in action) {
          callback(fail(action.data));
          return;
        }
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
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
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    attempts,
    commands,
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

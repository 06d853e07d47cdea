// A bulk SMTP client that knows where each message is: a pool of kept-open connections, each taking
// the next message as soon as it is free; MAIL, RCPT and DATA pipelined (RFC 2920) where offered;
// the body dot-stuffed on Buffers and written with its final dot in one write.
//
// Why not nodemailer's smtp-connection: it sends no pipelined groups (one round trip per command),
// dot-stuffs byte by byte in a stream transform (the largest cost of a send), gives no point between
// DATA's 354 and the final dot (where a delivery's hand-over must be recorded), and cannot tell a
// reply lost after the final dot (the message may have gone out) from a failure before it.
import { hostname } from 'node:os';
import { isIP, type Socket, connect as netConnect } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { needsSmtpUtf8 } from '../audience/email.ts';

export interface SmtpOptions {
  host: string;
  port: number;
  /** smtps: TLS from the start; otherwise STARTTLS whenever the server offers it. */
  secure: boolean;
  auth?: { user: string; pass: string } | undefined;
  /** Connections at most; opened when needed, kept open and reused. */
  poolSize: number;
  /** For connecting, the greeting and each reply. */
  timeoutMs: number;
  /** PEM of the CA that signed a private relay's certificate (certificates are always verified). */
  ca?: string | undefined;
  /** For error messages: host:port. */
  label: string;
}

export interface Envelope {
  from: string;
  to: string[];
}

/** A failure carrying the server's reply code when there was one (4xx, 5xx). */
export class SubmitError extends Error {
  override name = 'SubmitError';
  /**
   * Our own relay could not be reached or would not let us in, before any recipient was named:
   * not the recipient's fault, and the message certainly did not go out.
   */
  readonly relayUnreachable: boolean;
  /** The whole message was sent but its reply never came (timeout, reset, close): it may have gone out. */
  readonly uncertain: boolean;
  constructor(message: string, readonly responseCode: number | undefined, flags: { relayUnreachable?: boolean; uncertain?: boolean } = {}) {
    super(message);
    this.relayUnreachable = flags.relayUnreachable ?? false;
    this.uncertain = flags.uncertain ?? false;
  }
}

export interface SmtpPool {
  /** `handOver` runs after the server took the recipients and said 354, before the message is completed. */
  send(envelope: Envelope, message: Buffer, handOver: () => Promise<void>): Promise<{ response: string }>;
  close(): Promise<void>;
}

interface Reply {
  code: number;
  /** The reply's lines as the server sent them, joined by newlines. */
  text: string;
}

/** The connection is gone or out of step: a timeout, a reset, a close, a reply nobody asked for. */
class Lost extends Error {
  constructor(message: string, readonly timedOut = false) {
    super(message);
  }
}

/** Lost before the server answered anything of a transaction: on a kept-open connection, one the server had closed. */
class Stale extends Lost {}

const CRLF_DOT = Buffer.from('\r\n.');
const DOT = Buffer.from('.');
const END = Buffer.from('.\r\n');
const CRLF_END = Buffer.from('\r\n.\r\n');

/**
 * The DATA section of a message (CRLF line ends): lines starting with '.' get another (RFC 5321
 * 4.5.2), then CRLF.CRLF. One Buffer: a copy costs less than writing many small slices.
 */
export function dotStuffed(message: Buffer): Buffer {
  const parts: Buffer[] = message[0] === 0x2e ? [DOT] : [];
  let start = 0;
  for (let at = message.indexOf(CRLF_DOT); at !== -1; at = message.indexOf(CRLF_DOT, at + 2)) {
    parts.push(message.subarray(start, at + 2), DOT);
    start = at + 2;
  }
  parts.push(message.subarray(start));
  const endsInCrlf = message.length >= 2 && message[message.length - 2] === 0x0d && message[message.length - 1] === 0x0a;
  parts.push(endsInCrlf ? END : CRLF_END);
  return Buffer.concat(parts);
}

/** One SMTP session: writes commands and reads their replies in order. */
class Session {
  extensions = new Map<string, string>();
  private decoder = new StringDecoder('utf8');
  private partial = '';
  private lines: string[] = [];
  private replies: Reply[] = [];
  private waiting: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  /** Replies owed for commands written and not yet read; any other reply is out of step. */
  private owed = 1; // the greeting
  private failure: Lost | undefined;

  constructor(private socket: Socket, private readonly timeoutMs: number) {
    this.attach(socket);
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  private attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', (e: Error) => this.fail(new Lost(e.message)));
    socket.on('close', () => this.fail(new Lost('connection closed')));
  }

  private onData = (chunk: Buffer): void => {
    const lines = (this.partial + this.decoder.write(chunk)).split('\n');
    this.partial = lines.pop() as string;
    for (const raw of lines) {
      const line = raw.replace(/\r$/, '');
      this.lines.push(line);
      // "250-" goes on, "250 " (or a bare "250") ends the reply.
      if (/^\d{3}-/.test(line)) continue;
      const reply = { code: Number(/^\d{3}/.exec(line)?.[0] ?? 0), text: this.lines.join('\n') };
      this.lines = [];
      if (this.owed === 0) {
        this.fail(new Lost(`the server closed the session: ${reply.text}`));
        return;
      }
      this.owed--;
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(reply);
      else this.replies.push(reply);
    }
  };

  private fail(e: Lost): void {
    if (this.failure) return;
    this.failure = e;
    this.socket.destroy();
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  destroy(why = 'closed by us'): void {
    this.fail(new Lost(why));
  }

  /** Writes commands (or the message) in one go; `replies` of them are owed. */
  write(data: string | Buffer, replies: number): void {
    if (this.failure) return;
    this.owed += replies;
    this.socket.write(data);
  }

  /** The next reply; a timeout leaves the session out of step, so it is closed. */
  reply(timeoutMs = this.timeoutMs): Promise<Reply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Lost(`no reply within ${timeoutMs / 1000} s`, true)), timeoutMs);
      this.waiting.push({
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`, 1);
    return this.reply();
  }

  /** EHLO (HELO for an old server), keeping the extensions it names. */
  async hello(): Promise<void> {
    const name = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(hostname()) ? hostname() : addressLiteral(this.socket.localAddress ?? '127.0.0.1');
    const ehlo = await this.command(`EHLO ${name}`);
    this.extensions.clear();
    if (ehlo.code === 250) {
      for (const line of ehlo.text.split('\n').slice(1)) {
        const [keyword = '', ...rest] = line.slice(4).trim().split(/[ =]/);
        this.extensions.set(keyword.toUpperCase(), rest.join(' ').toUpperCase());
      }
      return;
    }
    const helo = await this.command(`HELO ${name}`);
    if (helo.code !== 250) throw new Error(`HELO refused: ${helo.text}`);
  }

  /** Replaces the plain socket by TLS over it (STARTTLS). */
  async startTls(options: SmtpOptions): Promise<void> {
    // The TLS socket reports what happens from now on; the plain one's own events are no longer ours.
    this.socket.removeAllListeners('data').removeAllListeners('close').removeAllListeners('error').on('error', () => {});
    this.socket = await secureSocket({ ...tlsOptions(options), socket: this.socket }, this.timeoutMs);
    this.attach(this.socket);
  }

  async login(auth: { user: string; pass: string }): Promise<void> {
    const offered = (this.extensions.get('AUTH') ?? '').split(' ');
    let reply: Reply;
    if (offered.includes('PLAIN') || !offered.includes('LOGIN')) {
      reply = await this.command(`AUTH PLAIN ${Buffer.from(`\0${auth.user}\0${auth.pass}`).toString('base64')}`);
    } else {
      reply = await this.command('AUTH LOGIN');
      if (reply.code === 334) reply = await this.command(Buffer.from(auth.user).toString('base64'));
      if (reply.code === 334) reply = await this.command(Buffer.from(auth.pass).toString('base64'));
    }
    if (reply.code !== 235) throw new Error(`Invalid login: ${reply.text}`);
  }

  /** One message, in one transaction. Throws SubmitError; a Lost before DATA's 354 comes out as it is. */
  async transaction(envelope: Envelope, message: Buffer, handOver: () => Promise<void>, label: string): Promise<{ response: string }> {
    const addresses = [envelope.from, ...envelope.to];
    // Addresses were checked when stored; a line break here would smuggle in a command.
    if (addresses.some((a) => /[\r\n]/.test(a))) throw new SubmitError(`553 5.1.3 an address holds a line break; nothing was sent`, 553);
    const utf8 = addresses.filter(needsSmtpUtf8);
    if (utf8.length > 0 && !this.extensions.has('SMTPUTF8')) {
      throw new SubmitError(`553 5.6.7 ${utf8.join(', ')}: a non-ASCII local part needs SMTPUTF8 (RFC 6531), which ${label} does not offer; nothing was sent`, 553);
    }
    const params = `${this.extensions.has('SIZE') ? ` SIZE=${message.length}` : ''}${utf8.length > 0 ? ' SMTPUTF8' : ''}`;
    const commands = [`MAIL FROM:<${envelope.from}>${params}`, ...envelope.to.map((to) => `RCPT TO:<${to}>`), 'DATA'];
    const replies: Reply[] = [];
    try {
      if (this.extensions.has('PIPELINING')) {
        this.write(commands.map((c) => `${c}\r\n`).join(''), commands.length);
        while (replies.length < commands.length) replies.push(await this.reply());
      } else {
        for (const [i, c] of commands.entries()) {
          const reply = await this.command(c);
          replies.push(reply);
          if (reply.code >= 400 || (i === commands.length - 1 && reply.code !== 354)) break;
        }
      }
    } catch (e) {
      // A server that refuses and hangs up (421) leaves the later replies unsaid: the refusal is the answer.
      const refused = replies.find((r) => r.code >= 400);
      if (refused) throw new SubmitError(refused.text, refused.code);
      throw e instanceof Lost && !e.timedOut && replies.length === 0 ? new Stale(e.message) : e;
    }
    // The first refusal tells why: a refused sender or any refused recipient refuses the message.
    const refusal = replies.slice(0, -1).find((r) => r.code >= 400) ?? (replies.length < commands.length ? replies.at(-1) : undefined);
    const data = replies.at(-1) as Reply;
    if (refusal || data.code !== 354) {
      const why = refusal ?? data;
      // After a 354 the server waits for a message: only closing the connection takes it back.
      if (data.code === 354 || why.code === 421) this.destroy();
      else await this.reset();
      throw new SubmitError(why.text, why.code || undefined);
    }
    try {
      await handOver();
    } catch (e) {
      this.destroy('the hand-over failed');
      throw e;
    }
    if (this.failure) throw this.failure; // gone before the message was written: nothing went out
    this.write(dotStuffed(message), 1);
    let reply: Reply;
    try {
      reply = await this.reply();
    } catch (e) {
      throw new SubmitError(`${label}: ${(e as Error).message} after the message was sent: it may have been delivered`, undefined, { uncertain: true });
    }
    if (reply.code === 421) this.destroy();
    if (reply.code >= 400 || reply.code < 200) throw new SubmitError(reply.text, reply.code || undefined);
    return { response: reply.text };
  }

  /** RSET after a failed transaction, so the session can take the next message; closed if that fails. */
  private async reset(): Promise<void> {
    const reply = await this.command('RSET').catch(() => undefined);
    if (reply?.code !== 250) this.destroy();
  }

  /** QUIT, waiting a little for its reply: a relay that does not answer should not hold up the exit. */
  async quit(): Promise<void> {
    if (this.failure) return;
    this.write('QUIT\r\n', 1);
    await this.reply(Math.min(this.timeoutMs, 2000)).catch(() => undefined);
    this.destroy();
  }
}

function addressLiteral(ip: string): string {
  return isIP(ip) === 6 ? `[IPv6:${ip}]` : `[${ip}]`;
}

function tlsOptions(o: SmtpOptions): ConnectionOptions {
  return { host: o.host, port: o.port, ...(isIP(o.host) ? {} : { servername: o.host }), ...(o.ca ? { ca: o.ca } : {}), rejectUnauthorized: true };
}

function withTimeout<T extends Socket>(socket: T, ready: string, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${what} timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    socket.once('error', onError);
  });
}

function secureSocket(options: ConnectionOptions, timeoutMs: number): Promise<Socket> {
  return withTimeout(tlsConnect(options), 'secureConnect', timeoutMs, 'TLS set-up').catch((e: Error) => {
    throw new Error(`TLS failed: ${e.message}`);
  });
}

/** Connects, reads the greeting, says EHLO, upgrades to TLS and logs in; every failure means our relay is unreachable. */
async function openSession(o: SmtpOptions): Promise<Session> {
  let session: Session | undefined;
  try {
    const socket = o.secure ? await secureSocket(tlsOptions(o), o.timeoutMs) : await withTimeout(netConnect({ host: o.host, port: o.port }), 'connect', o.timeoutMs, 'Connection');
    session = new Session(socket, o.timeoutMs);
    const greeting = await session.reply().catch((e: Error) => {
      throw new Error(e.message.startsWith('no reply') ? `Greeting never received within ${o.timeoutMs / 1000} s` : `connection lost before the greeting: ${e.message}`);
    });
    if (greeting.code !== 220) throw new Error(`Invalid greeting: ${greeting.text}`);
    await session.hello();
    if (!o.secure && session.extensions.has('STARTTLS')) {
      const reply = await session.command('STARTTLS');
      if (reply.code !== 220) throw new Error(`STARTTLS refused: ${reply.text}`);
      await session.startTls(o);
      await session.hello();
    }
    if (o.auth) await session.login(o.auth);
    return session;
  } catch (e) {
    session?.destroy();
    throw new SubmitError(`smtp://${o.label}: ${(e as Error).message}`, undefined, { relayUnreachable: true });
  }
}

export function smtpPool(options: SmtpOptions): SmtpPool {
  interface Job {
    envelope: Envelope;
    message: Buffer;
    handOver: () => Promise<void>;
    resolve: (r: { response: string }) => void;
    reject: (e: unknown) => void;
  }
  const queue: Job[] = [];
  interface Slot {
    session?: Session;
    busy: boolean;
    /** Settles when the slot has worked through the queue. */
    done?: Promise<void>;
  }
  const slots: Slot[] = [];
  let closing = false;

  const attempt = async (slot: Slot, job: Job): Promise<{ response: string }> => {
    const reused = slot.session !== undefined && !slot.session.closed;
    if (!reused) slot.session = await openSession(options);
    try {
      return await (slot.session as Session).transaction(job.envelope, job.message, job.handOver, options.label);
    } catch (e) {
      if (!(e instanceof Lost)) throw e;
      // A kept-open connection the server had already closed: nothing was named yet, so once more on a fresh one.
      if (reused && e instanceof Stale) return attempt(slot, job);
      throw new SubmitError(`${options.label}: ${e.message} before the message was sent`, undefined);
    }
  };
  // Each slot takes the next message as soon as it is free; a new one opens only when all are busy.
  const run = async (slot: Slot) => {
    slot.busy = true;
    for (let job = queue.shift(); job; job = queue.shift()) {
      try {
        job.resolve(await attempt(slot, job));
      } catch (e) {
        job.reject(e);
      }
    }
    slot.busy = false;
  };
  const pump = () => {
    for (const slot of slots) if (queue.length > 0 && !slot.busy) slot.done = run(slot);
    while (queue.length > 0 && slots.length < options.poolSize) {
      const slot: Slot = { busy: false };
      slots.push(slot);
      slot.done = run(slot);
    }
  };
  return {
    send(envelope, message, handOver) {
      if (closing) return Promise.reject(new SubmitError('the SMTP pool is closed', undefined));
      return new Promise((resolve, reject) => {
        queue.push({ envelope, message, handOver, resolve, reject });
        pump();
      });
    },
    async close() {
      closing = true;
      for (const job of queue.splice(0)) job.reject(new SubmitError('the SMTP pool was closed before this message was sent', undefined));
      await Promise.all(slots.map(async (s) => {
        await s.done;
        await s.session?.quit();
      }));
    },
  };
}

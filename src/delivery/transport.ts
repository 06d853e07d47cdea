// Where messages go: an SMTP server through nodemailer's pool when SMTP_URL is set, otherwise a
// local outbox folder with one .eml file per delivery (the embedded default: no server needed).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { needsSmtpUtf8 } from '../audience/email.ts';
import type { Config } from '../config.ts';

export interface Submission {
  /** The SMTP server's reply, or where the outbox wrote the file. */
  response: string;
  /** Outbox only: the written file. */
  path?: string;
}

export interface OutboxFile {
  /** An edition's week, or "transactional" for confirmations and the like. */
  folder: string;
  id: string;
  email: string;
}

export interface Transport {
  /** For logs and summaries: "smtp://host:port" or the outbox folder. */
  readonly target: string;
  /**
   * A message nodemailer composes, or a finished one as `{ envelope, raw }` (see mime-template.ts).
   * `file` names the outbox file (`<folder>/<id>-<email>.eml`); SMTP ignores it.
   */
  submit(message: SendMailOptions, file: OutboxFile): Promise<Submission>;
  close(): Promise<void>;
}

/** A failure carrying the server's reply code when there was one (4xx, 5xx). */
export class SubmitError extends Error {
  override name = 'SubmitError';
  constructor(
    message: string,
    readonly responseCode: number | undefined,
    /**
     * Our own relay could not be reached or would not let us in, before any recipient was named:
     * not the recipient's fault, and the message certainly did not go out.
     */
    readonly relayUnreachable = false,
  ) {
    super(message);
  }
}

/** What nodemailer tells about a failure (see its errors.js). */
interface MailerError extends Error {
  code?: string;
  originalCode?: string;
  timeoutType?: string;
  command?: string;
  responseCode?: number;
  response?: string;
}

/** Socket errors of a connection that was never set up (a reset or broken pipe mid-session is not one). */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * True when the failure happened while reaching our relay: refused, unreachable, its name not
 * found, the connection, greeting or TLS set-up timed out, TLS failed, it greeted with a refusal,
 * or it refused our login. A socket timeout or a dropped connection later in the session is not
 * one: the message may have been on its way.
 */
function isRelayUnreachable(err: MailerError): boolean {
  switch (err.code) {
    case 'EDNS':
    case 'ETLS':
    case 'EAUTH':
    case 'ENOAUTH':
      return true;
    case 'ETIMEDOUT':
      return err.timeoutType !== 'SOCKET_TIMEOUT';
    case 'EPROTOCOL':
      return /^Invalid greeting/.test(err.message);
    case 'ESOCKET':
      // A TLS handshake (smtps) fails with the TLS library's code, before the greeting.
      return err.command === 'CONN' && (CONNECT_ERRORS.has(err.originalCode ?? '') || /^(ERR_SSL_|ERR_TLS_)|CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(err.originalCode ?? ''));
    default:
      return false;
  }
}

export function createTransport(config: Config): Transport {
  return config.smtpUrl ? smtpTransport(config.smtpUrl, config.smtpPoolSize, config.smtpTimeoutSeconds * 1000) : outboxTransport(config.outboxDir);
}

export function smtpTransport(url: string, poolSize: number, timeoutMs = 60_000): Transport {
  const parsed = new URL(url);
  const connection = {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : parsed.protocol === 'smtps:' ? 465 : 587,
    secure: parsed.protocol === 'smtps:',
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    // The socket's idle timer also runs while we wait for the greeting; a second more lets a relay
    // that never greets fail as that (our relay unreachable), not as an idle session.
    socketTimeout: timeoutMs + 1000,
  };
  const mailer = nodemailer.createTransport({
    pool: true,
    maxConnections: poolSize,
    ...connection,
    ...(parsed.username ? { auth: { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } } : {}),
    // Recap owns retries: a message whose connection closed mid-send comes back to the send loop
    // (deferred, counted, retried with the same Message-ID) instead of being re-queued unseen.
    maxRequeues: 0,
  });
  let smtpUtf8: Promise<boolean> | undefined;
  // Asked once per transport, and only when an address needs it; a probe that failed is asked again.
  const relayOffersSmtpUtf8 = () =>
    (smtpUtf8 ??= offersSmtpUtf8(connection).catch((e: unknown) => {
      smtpUtf8 = undefined;
      throw e;
    }));
  const target = `smtp://${parsed.host}`;
  return {
    target,
    async submit(message) {
      try {
        const utf8 = envelopeAddresses(message).filter(needsSmtpUtf8);
        // nodemailer would put the UTF-8 address in RCPT TO even to a relay that never offered
        // SMTPUTF8, which breaks RFC 6531; such a message fails here, with a reply that says why.
        if (utf8.length > 0 && !(await relayOffersSmtpUtf8())) {
          throw new SubmitError(`553 5.6.7 ${utf8.join(', ')}: a non-ASCII local part needs SMTPUTF8 (RFC 6531), which ${parsed.host} does not offer; nothing was sent`, 553);
        }
        const info = await mailer.sendMail(message);
        return { response: info.response };
      } catch (e) {
        if (e instanceof SubmitError) throw e;
        const err = e as MailerError;
        const relay = isRelayUnreachable(err);
        throw new SubmitError(relay ? `${target}: ${err.message}` : (err.response ?? err.message), err.responseCode, relay);
      }
    },
    async close() {
      mailer.close();
    },
  };
}

/** Sender and recipients, as compose.ts, mime-template.ts and transactional.ts give them (addresses already normalised). */
function envelopeAddresses(message: SendMailOptions): string[] {
  const all = (message.envelope ? [message.envelope.from, message.envelope.to] : [message.from, message.to]).flat(3) as Array<string | { address: string } | undefined>;
  return all.flatMap((a) => (a === undefined ? [] : [typeof a === 'string' ? a : a.address]));
}

/** Whether the relay announces SMTPUTF8 in its EHLO reply (after STARTTLS, when it offers that). */
async function offersSmtpUtf8(options: SMTPConnection.Options): Promise<boolean> {
  const probe = new SMTPConnection(options);
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.connect(() => resolve());
    });
    // nodemailer keeps its list of extensions to itself; the EHLO reply it keeps has one keyword a line.
    return /^250[ -]SMTPUTF8\b/im.test(String(probe.lastServerResponse));
  } finally {
    probe.on('error', () => {});
    probe.quit();
  }
}

export function outboxTransport(dir: string): Transport {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    target: dir,
    async submit(message, file) {
      // A finished message is written as it is; nodemailer would only copy it.
      const bytes = Buffer.isBuffer(message.raw) ? message.raw : ((await composer.sendMail(message)).message as Buffer);
      const folder = join(dir, file.folder);
      await mkdir(folder, { recursive: true });
      const safe = file.email.replace(/[^a-z0-9@._-]/gi, '_');
      const path = join(folder, `${file.id}-${safe}.eml`);
      // Written under a temporary name and renamed: a crash never leaves half a message behind.
      await writeFile(`${path}.tmp`, bytes);
      await rename(`${path}.tmp`, path);
      return { response: `250 written to ${path}`, path };
    },
    async close() {},
  };
}

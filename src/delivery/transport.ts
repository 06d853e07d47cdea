// Where messages go: an SMTP server through our own pooled client (smtp-client.ts) when SMTP_URL is
// set, otherwise a local outbox folder with one .eml file per delivery (the embedded default: no
// server needed).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { Config } from '../config.ts';
import { type Envelope, SubmitError, smtpPool } from './smtp-client.ts';

export { SubmitError };

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
   * `file` names the outbox file (`<folder>/<id>-<email>.eml`); SMTP ignores it. `handOver` runs
   * once the message is about to be completed (SMTP: the recipient taken, before the final dot;
   * outbox: before the file is written); if it throws, nothing is completed and the error comes back.
   */
  submit(message: SendMailOptions, file: OutboxFile, handOver?: () => Promise<void>): Promise<Submission>;
  close(): Promise<void>;
}

export function createTransport(config: Config): Transport {
  return config.smtpUrl
    ? smtpTransport(config.smtpUrl, { poolSize: config.smtpPoolSize, timeoutMs: config.smtpTimeoutSeconds * 1000, ca: config.smtpTlsCa })
    : outboxTransport(config.outboxDir);
}

export function smtpTransport(url: string, options: { poolSize: number; timeoutMs?: number; ca?: string | undefined }): Transport {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'smtps:';
  const port = parsed.port ? Number(parsed.port) : secure ? 465 : 587;
  const pool = smtpPool({
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    secure,
    auth: parsed.username ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } : undefined,
    poolSize: options.poolSize,
    timeoutMs: options.timeoutMs ?? 60_000,
    ca: options.ca,
    label: `${parsed.hostname}:${port}`,
  });
  const toBytes = composer();
  return {
    target: `smtp://${parsed.host}`,
    async submit(message, _file, handOver = async () => {}) {
      const { envelope, raw } = await toBytes(message);
      return pool.send(envelope, raw, handOver);
    },
    close: () => pool.close(),
  };
}

export function outboxTransport(dir: string): Transport {
  const toBytes = composer();
  return {
    target: dir,
    async submit(message, file, handOver = async () => {}) {
      const { raw } = await toBytes(message);
      const folder = join(dir, file.folder);
      await mkdir(folder, { recursive: true });
      const safe = file.email.replace(/[^a-z0-9@._-]/gi, '_');
      const path = join(folder, `${file.id}-${safe}.eml`);
      await handOver();
      // Written under a temporary name and renamed: a crash never leaves half a message behind.
      await writeFile(`${path}.tmp`, raw);
      await rename(`${path}.tmp`, path);
      return { response: `250 written to ${path}`, path };
    },
    async close() {},
  };
}

/**
 * A message's bytes and envelope: a finished one as it is (nodemailer would only copy it), one to
 * compose through nodemailer's stream transport (with its DKIM signature when the message asks).
 */
function composer(): (message: SendMailOptions) => Promise<{ envelope: Envelope; raw: Buffer }> {
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return async (message) => {
    if (Buffer.isBuffer(message.raw) && message.envelope) {
      const e = message.envelope as { from?: unknown; to?: unknown };
      return { envelope: { from: address(e.from), to: [e.to].flat(3).map(address) }, raw: message.raw };
    }
    const info = await stream.sendMail(message);
    return { envelope: { from: info.envelope.from || '', to: info.envelope.to }, raw: info.message as Buffer };
  };
}

function address(a: unknown): string {
  return typeof a === 'string' ? a : a && typeof a === 'object' && 'address' in a ? String(a.address) : '';
}

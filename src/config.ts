// The only reader of process.env. Every variable is validated once, with a message that names it;
// `.env.example` documents each one.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import cron from 'node-cron';
import { filesFolder } from '../db/connect.ts';
import { normalizeEmail, parseMailbox } from './audience/email.ts';
import { type DkimSettings, loadDkimKey } from './delivery/dkim.ts';

const intFrom = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const envSchema = z.object({
  DATABASE_URL: z.string().min(1).default('var/recap.db'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
    .optional(),
  SMTP_POOL_SIZE: intFrom(5, 1, 50),
  SMTP_TLS_CA: z.string().min(1).optional(),
  OUTBOX_DIR: z.string().min(1).default('var/outbox'),
  MAIL_FROM: z.string().default('"Weekly AI Recap" <recap@example.com>'),
  MAIL_REPLY_TO: z.string().optional(),
  BASE_URL: z
    .url({ protocol: /^https?$/ })
    .default('https://recap.example.com')
    .transform((u) => u.replace(/\/+$/, '')),
  LIST_UNSUBSCRIBE_MAILTO: z.email().optional(),
  RECAP_SECRET: z.string().min(32, 'must be at least 32 characters (try: openssl rand -hex 32)').optional(),
  RECAP_TZ: z.string().default('UTC').refine((tz) => IANAZone.isValidZone(tz), 'is not an IANA time zone such as Europe/Berlin'),
  RECAP_LOCAL_SEND_TIME: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'is not a time of day such as 08:00')
    .transform((v) => ({ hour: Number(v.slice(0, 2)), minute: Number(v.slice(3)) }))
    .optional(),
  RECAP_MAX_STORIES: intFrom(12, 1, 50),
  RECAP_MAX_PER_TOPIC: intFrom(4, 1, 50),
  RECAP_MIN_STORIES: intFrom(3, 1, 50),
  RECAP_POSTAL_ADDRESS: z
    .string()
    .min(1)
    .default('Recap Media, Example Street 1, 10115 Berlin, Germany'),
  RECAP_SEND_BATCH: intFrom(500, 1, 10_000),
  RECAP_RATE: z.coerce.number().min(0).max(10_000).default(20),
  RECAP_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  RECAP_QUOTA: z.string().default('').transform((v, ctx) => {
    const quotas: Quota[] = [];
    for (const part of v.split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^(\d+)\s*\/\s*(\d+)\s*([mhd])$/i.exec(part);
      const minutes = m ? Number(m[2]) * { m: 1, h: 60, d: 1440 }[(m[3] as string).toLowerCase() as 'm' | 'h' | 'd'] : 0;
      if (!m || Number(m[1]) < 1 || minutes < 1 || minutes > 31 * 1440) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not a quota such as 50000/24h (messages / a window of 1m to 31d, in m, h or d)` });
        return z.NEVER;
      }
      quotas.push({ limit: Number(m[1]), minutes, label: `${m[1]}/${m[2]}${(m[3] as string).toLowerCase()}` });
    }
    return quotas;
  }),
  RECAP_MAX_ATTEMPTS: intFrom(6, 1, 50),
  RECAP_RETRY_BASE_SECONDS: intFrom(60, 1, 86_400),
  RECAP_RETRY_DEADLINE_HOURS: intFrom(24, 1, 24 * 14),
  RECAP_RESEND_UNCERTAIN: z.enum(['true', 'false']).default('false'),
  RECAP_MAX_FAILURES_IN_A_ROW: intFrom(10, 1, 10_000),
  RECAP_DOMAIN_PAUSE_AFTER: intFrom(5, 1, 10_000),
  RECAP_DOMAIN_PAUSE_MINUTES: intFrom(60, 1, 24 * 60),
  RECAP_SOFT_BOUNCE_LIMIT: intFrom(3, 1, 100),
  SMTP_TIMEOUT_SECONDS: intFrom(60, 1, 600),
  DKIM_DOMAIN: z.string().regex(/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/i, 'is not a domain name').optional(),
  DKIM_SELECTOR: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, 'is not a selector such as recap2026').optional(),
  DKIM_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  DKIM_PRIVATE_KEY: z.string().min(1).optional(),
  RECAP_CRON: z.string().default('0 8 * * 1').refine((e) => cron.validate(e), 'is not a cron expression such as "0 8 * * 1"'),
  RECAP_SEND_MODE: z.enum(['approve', 'auto']).default('approve'),
  RECAP_EDITORS: z.string().default('').transform((v, ctx) => {
    const list = v.split(/[\s,;]+/).filter(Boolean);
    const bad = list.filter((e) => !normalizeEmail(e));
    if (bad.length) ctx.addIssue({ code: 'custom', message: `not email addresses: ${bad.join(', ')}` });
    return list.map((e) => normalizeEmail(e) as string);
  }),
  RECAP_APPROVAL_DEADLINE_HOURS: intFrom(6, 0, 24 * 7),
  RECAP_DEADLINE_ACTION: z.enum(['send', 'skip']).default('send'),
  RECAP_CATCHUP_HOURS: intFrom(24, 0, 24 * 7),
  RECAP_FEEDS: z.string().default('').transform((v, ctx) => {
    const list = v.split(/[\s,]+/).filter(Boolean);
    const bad = list.filter((u) => !/^https?:\/\//.test(u));
    if (bad.length) ctx.addIssue({ code: 'custom', message: `not http(s) URLs: ${bad.join(', ')}` });
    return list;
  }),
  RECAP_FEED_CRON: z.string().default('0 * * * *').refine((e) => cron.validate(e), 'is not a cron expression such as "0 * * * *"'),
  RECAP_FEED_TIMEOUT_SECONDS: intFrom(30, 1, 600),
  RECAP_LOG_FORMAT: z.enum(['text', 'json']).default('text'),
  RECAP_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  RECAP_EDITOR_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  RECAP_TRACK_CLICKS: z.enum(['true', 'false']).default('false'),
  RECAP_LINK_CHECK_TIMEOUT_MS: intFrom(5000, 100, 60_000),
  PORT: intFrom(3000, 0, 65_535),
  RECAP_TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  RECAP_CONFIRM_TTL_HOURS: intFrom(72, 1, 24 * 30),
  RECAP_WELCOME_EMAIL: z.enum(['true', 'false']).default('false'),
  RECAP_INGEST_TOKEN: z.string().min(24, 'must be at least 24 characters (try: openssl rand -hex 24)').optional(),
  RECAP_WEBHOOK_SECRET: z.string().min(24, 'must be at least 24 characters (try: openssl rand -hex 24)').optional(),
  RECAP_METRICS_TOKEN: z.string().min(24, 'must be at least 24 characters (try: openssl rand -hex 24)').optional(),
  RECAP_CLOCK_START: z.iso
    .datetime({ offset: true, error: 'is not an ISO 8601 instant such as 2026-11-30T09:00:00Z' })
    .transform((v) => new Date(v))
    .optional(),
});

/** Every variable Recap reads; `.env.example` documents each one. */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape);

export interface Mailbox {
  name: string;
  address: string;
}

/** At most `limit` messages in any `minutes` (RECAP_QUOTA=50000/24h). */
export interface Quota {
  limit: number;
  minutes: number;
  label: string;
}

export interface Config {
  databaseUrl: string;
  smtpUrl: string | undefined;
  smtpPoolSize: number;
  /** PEM of SMTP_TLS_CA: the CA a private relay's certificate is checked against (read at load). */
  smtpTlsCa: string | undefined;
  outboxDir: string;
  from: Mailbox;
  replyTo: Mailbox;
  baseUrl: string;
  unsubscribeMailto: string;
  /** Undefined until set; commands that sign links ask for it through `requireSecret`. */
  secret: string | undefined;
  timeZone: string;
  /** Each reader's copy waits for this time of day in their zone (RECAP_LOCAL_SEND_TIME; src/delivery/waves.ts); unset: all at once. */
  localSendTime: { hour: number; minute: number } | undefined;
  maxStories: number;
  maxPerTopic: number;
  minStories: number;
  postalAddress: string;
  sendBatchSize: number;
  /** Idle/greeting/connection timeout towards the SMTP server. */
  smtpTimeoutSeconds: number;
  /** Set when DKIM_DOMAIN, DKIM_SELECTOR and a key are configured; the key is checked at load. */
  dkim: DkimSettings | undefined;
  /** Messages per second at most (0: no limit). */
  rate: number;
  /** Threads composing and signing messages during a send (0: on the main thread). */
  workers: number;
  /** The relay's quotas per rolling window, for every sender together (RECAP_QUOTA). */
  quotas: Quota[];
  maxAttempts: number;
  retryBaseSeconds: number;
  retryDeadlineHours: number;
  resendUncertain: boolean;
  maxFailuresInARow: number;
  domainPauseAfter: number;
  domainPauseMinutes: number;
  softBounceLimit: number;
  cron: string;
  sendMode: 'approve' | 'auto';
  editors: string[];
  approvalDeadlineHours: number;
  deadlineAction: 'send' | 'skip';
  catchUpHours: number;
  feeds: string[];
  feedCron: string;
  /** How long one feed may take (connect, answer and body) before its poll fails as a timeout. */
  feedTimeoutSeconds: number;
  /** The daemon's log lines: plain text, or one JSON object a line. */
  logFormat: 'text' | 'json';
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Opens the editor's desk (bearer token or basic-auth password); closed without it. */
  editorToken: string | undefined;
  /** Story links go through counted redirects (per story and edition, never per person). */
  trackClicks: boolean;
  /** How long the desk's link check waits for each story URL to answer. */
  linkCheckTimeoutMs: number;
  port: number;
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  trustProxy: boolean;
  confirmTtlHours: number;
  welcomeEmail: boolean;
  /** Bearer token of POST /api/articles; the intake is closed without it. */
  ingestToken: string | undefined;
  /** Shared secret of the bounce webhooks; closed without it. */
  webhookSecret: string | undefined;
  /** Bearer token of GET /metrics; without it there is no /metrics. */
  metricsToken: string | undefined;
  /** For tests only: the process's clock starts at this instant and runs on in real time. */
  clockStart: Date | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Builds the configuration from an environment (process.env by default). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')),
  );
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const from = mailboxOrThrow('MAIL_FROM', e.MAIL_FROM);
  const replyTo = e.MAIL_REPLY_TO ? mailboxOrThrow('MAIL_REPLY_TO', e.MAIL_REPLY_TO) : from;
  const domain = from.address.split('@')[1] as string;
  return {
    databaseUrl: e.DATABASE_URL,
    smtpUrl: e.SMTP_URL,
    smtpPoolSize: e.SMTP_POOL_SIZE,
    smtpTlsCa: e.SMTP_TLS_CA === undefined ? undefined : pemFile('SMTP_TLS_CA', e.SMTP_TLS_CA),
    outboxDir: e.OUTBOX_DIR,
    from,
    replyTo,
    baseUrl: e.BASE_URL,
    unsubscribeMailto: e.LIST_UNSUBSCRIBE_MAILTO ?? `unsubscribe@${domain}`,
    secret: e.RECAP_SECRET,
    timeZone: e.RECAP_TZ,
    localSendTime: e.RECAP_LOCAL_SEND_TIME,
    maxStories: e.RECAP_MAX_STORIES,
    maxPerTopic: e.RECAP_MAX_PER_TOPIC,
    minStories: e.RECAP_MIN_STORIES,
    postalAddress: e.RECAP_POSTAL_ADDRESS,
    sendBatchSize: e.RECAP_SEND_BATCH,
    smtpTimeoutSeconds: e.SMTP_TIMEOUT_SECONDS,
    dkim: dkimFrom(e),
    rate: e.RECAP_RATE,
    workers: e.RECAP_WORKERS ?? availableParallelism(),
    quotas: e.RECAP_QUOTA,
    maxAttempts: e.RECAP_MAX_ATTEMPTS,
    retryBaseSeconds: e.RECAP_RETRY_BASE_SECONDS,
    retryDeadlineHours: e.RECAP_RETRY_DEADLINE_HOURS,
    resendUncertain: e.RECAP_RESEND_UNCERTAIN === 'true',
    maxFailuresInARow: e.RECAP_MAX_FAILURES_IN_A_ROW,
    domainPauseAfter: e.RECAP_DOMAIN_PAUSE_AFTER,
    domainPauseMinutes: e.RECAP_DOMAIN_PAUSE_MINUTES,
    softBounceLimit: e.RECAP_SOFT_BOUNCE_LIMIT,
    cron: e.RECAP_CRON,
    sendMode: e.RECAP_SEND_MODE,
    editors: e.RECAP_EDITORS,
    approvalDeadlineHours: e.RECAP_APPROVAL_DEADLINE_HOURS,
    deadlineAction: e.RECAP_DEADLINE_ACTION,
    catchUpHours: e.RECAP_CATCHUP_HOURS,
    feeds: e.RECAP_FEEDS,
    feedCron: e.RECAP_FEED_CRON,
    feedTimeoutSeconds: e.RECAP_FEED_TIMEOUT_SECONDS,
    logFormat: e.RECAP_LOG_FORMAT,
    logLevel: e.RECAP_LOG_LEVEL,
    editorToken: e.RECAP_EDITOR_TOKEN,
    trackClicks: e.RECAP_TRACK_CLICKS === 'true',
    linkCheckTimeoutMs: e.RECAP_LINK_CHECK_TIMEOUT_MS,
    port: e.PORT,
    trustProxy: e.RECAP_TRUST_PROXY === 'true',
    confirmTtlHours: e.RECAP_CONFIRM_TTL_HOURS,
    welcomeEmail: e.RECAP_WELCOME_EMAIL === 'true',
    ingestToken: e.RECAP_INGEST_TOKEN,
    webhookSecret: e.RECAP_WEBHOOK_SECRET,
    metricsToken: e.RECAP_METRICS_TOKEN,
    clockStart: e.RECAP_CLOCK_START,
  };
}

function dkimFrom(e: z.output<typeof envSchema>): DkimSettings | undefined {
  const any = e.DKIM_DOMAIN || e.DKIM_SELECTOR || e.DKIM_PRIVATE_KEY_FILE || e.DKIM_PRIVATE_KEY;
  if (!any) return undefined;
  const missing = [
    !e.DKIM_DOMAIN && 'DKIM_DOMAIN',
    !e.DKIM_SELECTOR && 'DKIM_SELECTOR',
    !e.DKIM_PRIVATE_KEY_FILE && !e.DKIM_PRIVATE_KEY && 'DKIM_PRIVATE_KEY_FILE or DKIM_PRIVATE_KEY',
  ].filter(Boolean);
  if (missing.length > 0) throw new ConfigError(`invalid configuration:\n  DKIM needs ${missing.join(', ')} as well`);
  try {
    const privateKey = loadDkimKey({ file: e.DKIM_PRIVATE_KEY_FILE, pem: e.DKIM_PRIVATE_KEY });
    return { domain: (e.DKIM_DOMAIN as string).toLowerCase(), selector: e.DKIM_SELECTOR as string, privateKey };
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${(err as Error).message}`);
  }
}

/** A PEM file read at load, so that a wrong path stops the command before anything is sent. */
function pemFile(variable: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`invalid configuration:\n  ${variable}: cannot read ${path}: ${(e as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`invalid configuration:\n  ${variable}: ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return text;
}

function mailboxOrThrow(variable: string, value: string): Mailbox {
  const mailbox = parseMailbox(value);
  if (!mailbox) throw new ConfigError(`invalid configuration:\n  ${variable}: "${value}" is not an address like "Name" <name@example.com>`);
  return mailbox;
}

/** Reads `.env` from the working directory into process.env, never overriding what is already set. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

/** Where `npm run demo` keeps the secret it made, next to its database. */
export function demoSecretPath(config: Pick<Config, 'databaseUrl'>): string {
  return join(filesFolder(config.databaseUrl), 'demo-secret');
}

/**
 * RECAP_SECRET, or, on a machine where only the demo has run, the demo's own secret (with a
 * warning), so that the links in the demo's emails keep working with `recap serve`.
 */
export function requireSecret(config: Config, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  if (config.secret) return config.secret;
  const demo = demoSecretPath(config);
  if (existsSync(demo)) {
    warn(`warning: RECAP_SECRET is not set; using the demo's secret from ${demo}. Set RECAP_SECRET outside the demo.`);
    return readFileSync(demo, 'utf8').trim();
  }
  throw new ConfigError(
    'RECAP_SECRET is not set: it signs the unsubscribe and preference links in every email.\n' +
      '  Set it in the environment or .env (openssl rand -hex 32); `npm run demo` makes its own.',
  );
}

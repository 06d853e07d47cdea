// `npm run bench`: the send path measured at list scale. A fresh SQLite file with N subscribers
// (realistic topic mixes) and three weeks of articles; the product's own functions build the
// editions, render the variants, build each one's message template and time what the send does per
// recipient (signed links, Message-ID, the splice; unsigned and DKIM-signed), enqueue and send (in
// a child process, as `recap digest send` does) to Postfix's smtp-sink, or to smtp-server here
// without Postfix; then smtp-source against the same sink says what the wire allows. Prints a
// table and writes JSON to bench/results/. `--only splice` stops after the per-recipient figures.
// Never part of `npm test`.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Command, InvalidArgumentError, Option } from 'commander';
import pg from 'pg';
import { openDb } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { WEEKLY_AI_RECAP } from '../db/migrations/0001_initial.ts';
import { importArticles } from '../src/articles/import.ts';
import { findList } from '../src/audience/lists.ts';
import { subscriberLinks } from '../src/audience/tokens.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { systemClock } from '../src/context.ts';
import { generateDkimKey } from '../src/delivery/dkim.ts';
import { enqueueDeliveries } from '../src/delivery/enqueue.ts';
import { type MessageTemplate, messageTemplate } from '../src/delivery/mime-template.ts';
import { type ComposeJob, composeFor, deliveryMessageId, type SendContext } from '../src/delivery/composers.ts';
import { audienceByVariant, topicsOfSubscribers } from '../src/delivery/variants.ts';
import { type Edition, editionForRender, editionTopics, ensureEdition, findEdition } from '../src/editions/editions.ts';
import { weekOf } from '../src/editions/week.ts';
import { renderSettings } from '../src/recap.ts';
import { variantKey } from '../src/render/arrange.ts';
import { type RenderedVariant, renderVariant } from '../src/render/variant.ts';
import { freshBuild } from '../bin/build.js';
import { table } from '../src/cli/output.ts';
import { articlesForWeek, generateSubscribers, insertSubscribers, type SampleArticle, topicsByPopularity } from './population.ts';
import type { SendFigures } from './send.ts';
import type { WorkerFigures } from './worker.ts';
import { findPostfixTool, POSTFIX_INSTALL, runSmtpSource, type Sink, type SourceResult, startInProcessSink, startPostfixSink } from './sinks.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** `npm run bench` builds first; run on its own from changed sources, the sends go through tsx. */
const build = freshBuild();
const SAMPLE = join(ROOT, 'data/sample/articles.json');
/** The per-recipient work is timed over this many recipients at most (DKIM-signed: a tenth): enough for a stable mean. */
const RECIPIENT_SAMPLE = 20_000;

const count = (min: number) => (value: string) => {
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number of at least ${min}`);
  return n;
};

function workerCounts(value: string): number[] {
  const counts = value.split(',').map((v) => count(1)(v.trim()));
  if (counts.some((n) => n > 16)) throw new InvalidArgumentError('at most 16 worker processes');
  return counts;
}

const program = new Command('bench')
  .description('measure the send path: render, personalize, enqueue and send N messages to a local SMTP sink')
  .option('--subscribers <n>', 'subscribers in the list', count(1), 100_000)
  .option('--quick', 'a fast check: 10,000 subscribers unless --subscribers says otherwise')
  .option('--articles <n>', "articles in each week (the sample week's 14, repeated if more)", count(3), 14)
  .option('--connections <n>', 'SMTP connections (SMTP_POOL_SIZE) for Recap and smtp-source sessions', count(1), 5)
  .option('--rate <n>', 'RECAP_RATE for the sends; 0 is unpaced', count(0), 0)
  .option('--threads <n>', 'RECAP_WORKERS for the sends: composing threads (default: one per core; 0: compose on the main thread)', count(0))
  .option('--workers <list>', 'also send with this many `recap worker` processes together, e.g. 1,2,4 (one week each)', workerCounts)
  .option('--database <url>', 'a PostgreSQL server (postgres://user:pass@host/db) to run on: the bench makes a database of its own there and drops it after; default a SQLite file')
  .option('--no-dkim', 'skip the DKIM-signed send')
  .addOption(new Option('--sink <kind>', 'where mail goes').choices(['auto', 'postfix', 'inprocess']).default('auto'))
  .option('--out <dir>', 'folder for the JSON results', join(ROOT, 'bench/results'))
  .option('--keep', 'keep the temporary database and print where it is')
  .option('--profile <dir>', "write V8 CPU profiles of the sends (one file per thread) to this folder, for Chrome DevTools' Performance panel")
  .addOption(new Option('--only <step>', 'stop after the per-recipient figures (10,000 subscribers unless --subscribers says otherwise)').choices(['splice']))
  .parse();

interface Options {
  subscribers: number;
  quick?: boolean;
  articles: number;
  connections: number;
  rate: number;
  threads?: number;
  workers?: number[];
  database?: string;
  dkim: boolean;
  sink: 'auto' | 'postfix' | 'inprocess';
  out: string;
  keep?: boolean;
  profile?: string;
  only?: 'splice';
}
const opts = program.opts<Options>();
if ((opts.quick || opts.only) && program.getOptionValueSource('subscribers') === 'default') opts.subscribers = 10_000;

const step = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mb = (bytes: number) => `${fmt(bytes / 1_048_576)} MB`;

async function timed<T>(work: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

function timedSync(work: () => void): { ms: number } {
  const started = performance.now();
  work();
  return { ms: performance.now() - started };
}

const work = mkdtempSync(join(os.tmpdir(), 'recap-bench-'));
const secret = randomBytes(32).toString('hex');
/** On PostgreSQL, a database of the bench's own on the server --database names (dropped after). */
const benchDatabase = opts.database ? { server: opts.database, name: `recap_bench_${randomBytes(4).toString('hex')}` } : undefined;
async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: (benchDatabase as NonNullable<typeof benchDatabase>).server });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
if (benchDatabase) await onServer(`create database ${benchDatabase.name}`);
const databaseUrl = benchDatabase ? Object.assign(new URL(benchDatabase.server), { pathname: `/${benchDatabase.name}` }).href : join(work, 'recap.db');
const env = {
  DATABASE_URL: databaseUrl,
  OUTBOX_DIR: join(work, 'outbox'),
  RECAP_SECRET: secret,
  SMTP_POOL_SIZE: String(opts.connections),
  RECAP_RATE: String(opts.rate),
  ...(opts.threads !== undefined ? { RECAP_WORKERS: String(opts.threads) } : {}),
};
const config = loadConfig(env);
const children = new Set<{ kill(): unknown }>();
let sink: Sink | undefined;

let cleanedUp = false;
async function cleanUp(): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const c of children) c.kill();
  await sink?.close();
  if (benchDatabase && !opts.keep) await onServer(`drop database if exists ${benchDatabase.name}`).catch((e: unknown) => step(`could not drop ${benchDatabase.name}: ${(e as Error).message}`));
  if (opts.keep) step(`kept ${work}${benchDatabase ? ` and database ${benchDatabase.name}` : ''}`);
  else rmSync(work, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    step(`${signal}: stopping the bench`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/** bench/send.ts or bench/worker.ts in a process of its own, with the bench's configuration; resolves with what it reports. */
function inChild<T>(name: 'send' | 'worker', args: string[], extraEnv: Record<string, string>): Promise<T> {
  const childEnv = {
    // Only what a process needs from ours: a developer's RECAP_* or SMTP_URL must not leak in.
    ...Object.fromEntries(['PATH', 'HOME', 'TMPDIR', 'NODE_ENV'].flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : []))),
    ...env,
    ...extraEnv,
  };
  // From the build when it is up to date (as bin/recap.js runs the CLI), else through tsx.
  const [script, loader] = build ? [join(build, `bench/${name}.js`), []] : [join(ROOT, `bench/${name}.ts`), ['--import', 'tsx']];
  const profile = opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(opts.profile)}`] : [];
  const child = fork(script, args, { cwd: ROOT, env: childEnv, execArgv: [...loader, ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  return new Promise((resolvePromise, reject) => {
    let figures: T | undefined;
    child.on('message', (m) => (figures = m as T));
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      if (figures && code === 0) resolvePromise(figures);
      else reject(new Error(`bench/${name} ${args.join(' ')} ended with code ${code}`));
    });
  });
}

async function chooseSink(): Promise<Sink> {
  const path = findPostfixTool('smtp-sink');
  if (opts.sink === 'postfix' && !path) throw new Error(`--sink postfix: smtp-sink not found; install Postfix's tools: ${POSTFIX_INSTALL}`);
  if (path && opts.sink !== 'inprocess') return startPostfixSink(path);
  return startInProcessSink();
}

interface SendResult extends SendFigures {
  msgsPerSecond: number;
  sendLoopMsgsPerSecond: number;
  meanMessageBytes: number | null;
  cpuSeconds: number;
  ratioToSmtpSource?: number;
}

async function measuredSend(label: string, week: string, extraEnv: Record<string, string>): Promise<SendResult> {
  step(`${label}: sending ${week} to ${sink?.kind} sink…`);
  const before = sink?.bytesRead() ?? null;
  const figures = await inChild<SendFigures>('send', [week], extraEnv);
  const after = sink?.bytesRead() ?? null;
  const result = {
    ...figures,
    msgsPerSecond: figures.submitted / (figures.totalMs / 1000),
    sendLoopMsgsPerSecond: figures.submitted / ((figures.totalMs - figures.beforeFirstMessageMs) / 1000),
    meanMessageBytes: before !== null && after !== null && figures.submitted > 0 ? (after - before) / figures.submitted : null,
    cpuSeconds: figures.userCpuSeconds + figures.systemCpuSeconds,
  };
  step(`  ${fmt(result.submitted)} submitted in ${seconds(result.totalMs)}: ${fmt(result.msgsPerSecond)} msgs/s; peak RSS ${mb(result.peakRssBytes)} (main thread at the peak: heap ${mb(result.atPeak.heapUsedBytes)}, buffers ${mb(result.atPeak.arrayBuffersBytes)})`);
  if (Object.keys(result.notSubmitted).length > 0) step(`  not submitted: ${JSON.stringify(result.notSubmitted)} ${JSON.stringify(result.errors.slice(0, 3))}`);
  return result;
}

interface WorkersResult {
  workers: number;
  week: string;
  submitted: number;
  totalMs: number;
  msgsPerSecond: number;
  cpuSeconds: number;
  peakRssBytes: number[];
  ratioToSmtpSource?: number;
}

/** `n` `recap worker --once` processes together on one queued edition, as operators run them. */
async function measuredWorkers(n: number, week: string, smtp: Record<string, string>): Promise<WorkersResult> {
  step(`${n} worker process${n === 1 ? '' : 'es'}: sending ${week} to ${sink?.kind} sink…`);
  const db = openDb(config.databaseUrl);
  try {
    const list = await findList(db, WEEKLY_AI_RECAP.slug);
    const edition = await findEdition(db, list, week, config.timeZone);
    if (!edition) throw new Error(`no edition for ${week}`);
    await enqueueDeliveries(db, edition, undefined, new Date(), config);
    await db.updateTable('editions').set({ status: 'sending' }).where('id', '=', edition.row.id).execute();
  } finally {
    await db.destroy();
  }
  const started = performance.now();
  const each = await Promise.all(Array.from({ length: n }, () => inChild<WorkerFigures>('worker', [], smtp)));
  const totalMs = performance.now() - started;
  const submitted = each.reduce((sum, f) => sum + f.submitted, 0);
  const result = { workers: n, week, submitted, totalMs, msgsPerSecond: submitted / (totalMs / 1000), cpuSeconds: each.reduce((sum, f) => sum + f.cpuSeconds, 0), peakRssBytes: each.map((f) => f.peakRssBytes) };
  step(`  ${fmt(submitted)} submitted in ${seconds(totalMs)}: ${fmt(result.msgsPerSecond)} msgs/s (${each.map((f) => fmt(f.submitted)).join(' + ')}); peak RSS ${each.map((f) => mb(f.peakRssBytes)).join(', ')}`);
  return result;
}

/** Every variant the audience needs, rendered once each with the product's renderer, timed. */
async function measureVariants(db: ReturnType<typeof openDb>, edition: Edition) {
  const topics = editionTopics(edition);
  const audience = await audienceByVariant(db, edition, topics);
  const settings = renderSettings({ db, config, clock: systemClock });
  const rendered = new Map<string, RenderedVariant>();
  const each: Array<{ key: string; recipients: number; ms: number; htmlBytes: number }> = [];
  for (const [key, recipients] of [...audience].sort((a, b) => b[1] - a[1])) {
    const { value, ms } = await timed(() => renderVariant(editionForRender(edition), key, settings));
    rendered.set(key, value);
    each.push({ key, recipients, ms, htmlBytes: value.htmlBytes });
  }
  const sorted = each.map((v) => v.ms).sort((a, b) => a - b);
  const total = sorted.reduce((s, ms) => s + ms, 0);
  return {
    rendered,
    summary: {
      count: each.length,
      totalMs: total,
      meanMs: total / each.length,
      medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0,
      firstMs: each[0]?.ms ?? 0,
      maxMs: sorted.at(-1) ?? 0,
      largestHtmlBytes: Math.max(...each.map((v) => v.htmlBytes)),
      each,
    },
  };
}

/** A full garbage collection, so that memory figures count what is still held. */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;
const heldBytes = () => {
  collectGarbage();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

/** What the send does per recipient, on a sample of real recipients, each with the template of the variant it would get. */
async function measurePerRecipient(db: ReturnType<typeof openDb>, edition: Edition, rendered: Map<string, RenderedVariant>) {
  const topics = editionTopics(edition);
  const rows = await db.selectFrom('subscribers').select(['id', 'email', 'name', 'first_name']).orderBy('id').limit(RECIPIENT_SAMPLE).execute();
  const followed = new Map<number, string[]>();
  for (let i = 0; i < rows.length; i += 1000) {
    for (const [id, t] of await topicsOfSubscribers(db, rows.slice(i, i + 1000).map((r) => r.id), topics)) followed.set(id, t);
  }
  const shared = { subject: edition.row.subject, listSlug: edition.list.slug, listName: edition.list.name };
  const keyFile = join(work, 'splice-dkim.pem');
  writeFileSync(keyFile, generateDkimKey(2048).privateKeyPem, { mode: 0o600 });
  const dkimConfig = loadConfig({ ...env, DKIM_DOMAIN: 'example.com', DKIM_SELECTOR: 'bench', DKIM_PRIVATE_KEY_FILE: keyFile });
  /** Every variant's template, as a send builds them (once per variant), and the bytes each holds. */
  async function templates(c: Config) {
    const before = heldBytes();
    const built = new Map<string, MessageTemplate>();
    const { ms } = await timed(async () => {
      for (const [key, v] of rendered) built.set(key, await messageTemplate(c, { html: v.html, text: v.text, placeholder_nonce: v.nonce }, shared));
    });
    return { built, msEach: ms / built.size, bytesEach: (heldBytes() - before) / built.size };
  }
  const unsigned = await templates(config);
  const signed = await templates(dkimConfig);
  const recipients = rows.map((r, i) => ({ ...r, delivery: i + 1, key: variantKey(followed.get(r.id) ?? [], topics) }));
  const context = (c: Config): SendContext => ({ config: c, secret, editionId: edition.row.id, listId: edition.list.id, ...shared });
  const job = (r: (typeof recipients)[number]): ComposeJob => ({ key: r.key, deliveryId: r.delivery, subscriberId: r.id, email: r.email, name: r.name, firstName: r.first_name, date: Date.now() });
  /** Links, Message-ID and the splice: what a composing thread does per message (composeFor). */
  const run = (c: Config, built: Map<string, MessageTemplate>, sample: typeof recipients, splice: boolean) => {
    const ctx = context(c);
    let bytes = 0;
    const { ms } = timedSync(() => {
      for (const r of sample) {
        if (splice) bytes += composeFor(ctx, built.get(r.key) as MessageTemplate, job(r)).raw.length;
        else {
          subscriberLinks(c.baseUrl, secret, r.id, edition.list.id);
          deliveryMessageId(c, secret, edition.row.id, r.delivery);
        }
      }
    });
    return { usPerRecipient: (ms * 1000) / sample.length, meanMessageBytes: bytes / sample.length };
  };
  const signedSample = recipients.slice(0, Math.ceil(recipients.length / 10));
  const linksAndMessageId = run(config, unsigned.built, recipients, false);
  const all = run(config, unsigned.built, recipients, true);
  const allSigned = run(dkimConfig, signed.built, signedSample, true);
  return {
    recipients: recipients.length,
    usPerRecipient: all.usPerRecipient,
    linksAndMessageIdUsPerRecipient: linksAndMessageId.usPerRecipient,
    meanMessageBytes: all.meanMessageBytes,
    dkim: { recipients: signedSample.length, usPerRecipient: allSigned.usPerRecipient, meanMessageBytes: allSigned.meanMessageBytes },
    templates: { count: unsigned.built.size, msEach: unsigned.msEach, bytesEach: unsigned.bytesEach, dkimBytesEach: signed.bytesEach },
  };
}

/** The database filled, the editions built, and every step before sending measured on its own. */
async function prepareAndMeasureSteps() {
  const db = openDb(config.databaseUrl);
  try {
    await migrateToLatest(db);
    const list = await findList(db, WEEKLY_AI_RECAP.slug);
    const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')) as SampleArticle[];
    // Three weeks: one for the step-by-step measurements, one per send (each starts from nothing).
    const weeks: string[] = [];
    // And one week further back for each --workers run.
    for (const back of [2, 1, 0, ...(opts.workers ?? []).map((_, k) => 3 + k)]) {
      const articles = articlesForWeek(sample, back, opts.articles);
      const imported = await importArticles(db, JSON.stringify(articles), { now: new Date(), format: 'json' });
      if (imported.failed > 0) throw new Error(`sample articles failed to import: ${JSON.stringify(imported.results.filter((r) => r.outcome === 'failed'))}`);
      weeks.push(weekOf(new Date(articles[0]?.collectedAt as string), config.timeZone));
    }
    const [measureWeek, unsignedWeek, signedWeek, ...workerWeeks] = weeks as [string, string, string, ...string[]];

    step(`generating ${fmt(opts.subscribers)} subscribers…`);
    const topics = topicsByPopularity(sample);
    const population = await timed(() => insertSubscribers(db, list.id, generateSubscribers(opts.subscribers, topics), new Date()));
    step(`  stored in ${seconds(population.ms)}`);
    const followCounts = await db
      .selectFrom('subscribers as s')
      .select((eb) => [eb.selectFrom('subscriber_topics as t').select((e) => e.fn.countAll<number>().as('n')).whereRef('t.subscriber_id', '=', 's.id').as('k')])
      .execute();
    const mix: Record<string, number> = {};
    for (const r of followCounts) mix[String(r.k)] = (mix[String(r.k)] ?? 0) + 1;

    // `recap digest build` for each week.
    const editions: Edition[] = [];
    for (const week of weeks) {
      const planned = await ensureEdition(db, list, {
        week, timeZone: config.timeZone, now: new Date(), persist: true,
        rules: { maxStories: config.maxStories, maxPerTopic: config.maxPerTopic, minStories: config.minStories },
      });
      if (!planned.ok) throw new Error(`no edition for ${week}: ${planned.reason}`);
      editions.push(planned.edition);
    }
    const measureEdition = editions[0] as Edition;

    step('rendering every variant the audience needs…');
    const variants = await measureVariants(db, measureEdition);
    step(`  ${variants.summary.count} variants, ${fmt(variants.summary.meanMs, 1)} ms each (median ${fmt(variants.summary.medianMs, 1)})`);
    step('building message templates, then links, Message-ID and splice per recipient…');
    const perRecipient = await measurePerRecipient(db, measureEdition, variants.rendered);
    step(`  ${fmt(perRecipient.usPerRecipient, 1)} µs per recipient (DKIM-signed ${fmt(perRecipient.dkim.usPerRecipient, 1)}), ${fmt(perRecipient.templates.bytesEach / 1024)} KiB per template`);
    const common = {
      weeks: { measure: measureWeek, unsigned: unsignedWeek, signed: signedWeek, workers: workerWeeks },
      stories: measureEdition.stories.length,
      editionTopics: [...editionTopics(measureEdition)],
      population: { subscribers: population.value, insertMs: population.ms, topicsFollowed: mix },
      variants: variants.summary,
      perRecipient,
    };
    if (opts.only) return common;
    step('enqueueing…');
    const enqueue = await timed(() => enqueueDeliveries(db, measureEdition, undefined, new Date(), config));
    const enqueued = { rows: enqueue.value, ms: enqueue.ms, rowsPerSecond: enqueue.value / (enqueue.ms / 1000) };
    step(`  ${fmt(enqueued.rows)} rows in ${fmt(enqueued.ms)} ms`);
    return { ...common, enqueue: enqueued };
  } finally {
    await db.destroy();
  }
}

/** The two sends (unsigned and DKIM-signed) to the sink, and smtp-source against it. */
async function measureSends(weeks: { unsigned: string; signed: string; workers: string[] }) {
  sink = await chooseSink();
  step(`sink: ${sink.description} on 127.0.0.1:${sink.port}`);
  const smtp = { SMTP_URL: `smtp://127.0.0.1:${sink.port}` };
  const unsigned = await measuredSend('unsigned', weeks.unsigned, smtp);
  let signed: SendResult | undefined;
  if (opts.dkim) {
    const keyFile = join(work, 'dkim.pem');
    writeFileSync(keyFile, generateDkimKey(2048).privateKeyPem, { mode: 0o600 });
    signed = await measuredSend('DKIM-signed', weeks.signed, { ...smtp, DKIM_DOMAIN: 'example.com', DKIM_SELECTOR: 'bench', DKIM_PRIVATE_KEY_FILE: keyFile });
  }

  const workers: WorkersResult[] = [];
  for (const [k, n] of (opts.workers ?? []).entries()) workers.push(await measuredWorkers(n, weeks.workers[k] as string, smtp));

  let source: SourceResult | { available: false; why: string };
  const sourcePath = findPostfixTool('smtp-source');
  if (!sourcePath) source = { available: false, why: `smtp-source not found; install Postfix's tools: ${POSTFIX_INSTALL}` };
  else if (unsigned.meanMessageBytes === null) source = { available: false, why: 'the mean message size could not be measured at the sink' };
  else {
    step(`smtp-source: ${fmt(opts.subscribers)} messages of ${fmt(unsigned.meanMessageBytes)} bytes over ${opts.connections} sessions…`);
    source = await runSmtpSource(sourcePath, { port: sink.port, sessions: opts.connections, messages: opts.subscribers, bytes: Math.round(unsigned.meanMessageBytes) });
    step(`  ${fmt(source.msgsPerSecond)} msgs/s`);
    unsigned.ratioToSmtpSource = unsigned.msgsPerSecond / source.msgsPerSecond;
    if (signed) signed.ratioToSmtpSource = signed.msgsPerSecond / source.msgsPerSecond;
    for (const w of workers) w.ratioToSmtpSource = w.msgsPerSecond / source.msgsPerSecond;
  }
  const sinkFacts = { kind: sink.kind, description: sink.description, bytesMeaning: sink.bytesMeaning };
  await sink.close();
  sink = undefined;
  return { sink: sinkFacts, sends: { unsigned, ...(signed ? { signed } : {}) } as Record<string, SendResult>, workers, source };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  step(`Recap bench: ${fmt(opts.subscribers)} subscribers, ${opts.connections} connections, RECAP_RATE=${opts.rate}, in ${work}`);
  const measured = await prepareAndMeasureSteps();
  const sending = 'enqueue' in measured ? await measureSends(measured.weeks) : { sink: null, sends: {}, workers: [], source: { available: false as const, why: `--only ${opts.only}` } };

  const cpus = os.cpus();
  const results = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryBytes: os.totalmem(),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      nodeEnv: process.env.NODE_ENV ?? null,
      // The machine may be shared: the 1, 5 and 15 minute load averages before and after.
      loadAverageBefore: loadBefore,
      loadAverageAfter: os.loadavg(),
    },
    options: { subscribers: opts.subscribers, articles: opts.articles, connections: opts.connections, rate: opts.rate, dkim: opts.dkim, sink: opts.sink, threads: opts.threads ?? null, workers: opts.workers ?? [] },
    /** The sends ran from the build (dist/) or from the sources through tsx. */
    sendsFrom: build ? 'build' : 'tsx',
    sink: sending.sink,
    ...measured,
    database: benchDatabase ? 'postgres' : 'sqlite',
    sends: sending.sends,
    workers: sending.workers,
    smtpSource: 'msgsPerSecond' in sending.source ? { available: true, ...sending.source } : sending.source,
    benchProcess: { peakRssBytes: process.resourceUsage().maxRSS * 1024 },
  };
  mkdirSync(opts.out, { recursive: true });
  const file = join(opts.out, `${startedAt.toISOString().replace(/[:.]/g, '-')}-${opts.subscribers}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  printSummary(results, sending.source);
  console.log(`\nResults: ${file}`);
}

type PerRecipient = Awaited<ReturnType<typeof measurePerRecipient>>;

function printSummary(r: { database: string; workers: WorkersResult[]; variants: { count: number; meanMs: number; medianMs: number; firstMs: number }; perRecipient: PerRecipient; enqueue?: { rows: number; rowsPerSecond: number }; sends: Record<string, SendResult>; machine: { cpus: number; cpuModel: string; node: string; loadAverageBefore: number[]; loadAverageAfter: number[] }; sink: { kind: string } | null }, source: SourceResult | { available: false; why: string }): void {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const p = r.perRecipient;
  console.log(`\nRecap bench · ${r.database} · ${fmt(opts.subscribers)} subscribers · ${opts.connections} connections · RECAP_RATE=${opts.rate} · ${r.sink ? `${r.sink.kind} sink` : `only ${opts.only}`} · sends from ${build ? 'the build' : 'the sources through tsx (npm run build)'}`);
  console.log(`${r.machine.cpus} × ${r.machine.cpuModel} · Node ${r.machine.node} · load ${load(r.machine.loadAverageBefore)} → ${load(r.machine.loadAverageAfter)}\n`);
  const rows = [
    ['variants', `${r.variants.count}`, `${fmt(r.variants.meanMs, 1)} ms each (median ${fmt(r.variants.medianMs, 1)}, first ${fmt(r.variants.firstMs)})`],
    ['message templates', `${fmt(p.templates.bytesEach / 1024)} KiB each`, `${p.templates.count} built in ${fmt(p.templates.msEach, 1)} ms each · ${fmt(p.templates.dkimBytesEach / 1024)} KiB with DKIM`],
    ['per recipient', `${fmt(p.usPerRecipient, 1)} µs unsigned`, `links + Message-ID ${fmt(p.linksAndMessageIdUsPerRecipient, 1)} µs of it · DKIM-signed ${fmt(p.dkim.usPerRecipient, 1)} µs · ${fmt(p.meanMessageBytes)} B/msg`],
    ...(r.enqueue ? [['enqueue', `${fmt(r.enqueue.rowsPerSecond)} rows/s`, `${fmt(r.enqueue.rows)} rows`]] : []),
  ];
  for (const [name, s] of Object.entries(r.sends)) {
    const ratio = s.ratioToSmtpSource === undefined ? 'ratio n/a' : `${(s.ratioToSmtpSource * 100).toFixed(1)} % of smtp-source`;
    rows.push([`send, ${name}`, `${fmt(s.msgsPerSecond)} msgs/s`, `${ratio} · ${fmt(s.submitted)} in ${seconds(s.totalMs)} · ${s.meanMessageBytes === null ? '?' : fmt(s.meanMessageBytes)} B/msg · peak RSS ${mb(s.peakRssBytes)} · CPU ${fmt(s.cpuSeconds, 1)} s`]);
  }
  for (const w of r.workers) {
    const ratio = w.ratioToSmtpSource === undefined ? 'ratio n/a' : `${(w.ratioToSmtpSource * 100).toFixed(1)} % of smtp-source`;
    rows.push([`${w.workers} worker${w.workers === 1 ? '' : 's'}, ${r.database}`, `${fmt(w.msgsPerSecond)} msgs/s`, `${ratio} · ${fmt(w.submitted)} in ${seconds(w.totalMs)} · CPU ${fmt(w.cpuSeconds, 1)} s · peak RSS ${w.peakRssBytes.map(mb).join(', ')}`]);
  }
  rows.push('msgsPerSecond' in source
    ? ['smtp-source', `${fmt(source.msgsPerSecond)} msgs/s`, `${fmt(source.messages)} × ${fmt(source.messageBytes)} B over ${source.sessions} sessions`]
    : ['smtp-source', 'unavailable', source.why]);
  for (const line of table(rows)) console.log(`  ${line}`);
}

try {
  await main();
} catch (e) {
  step(`bench failed: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}

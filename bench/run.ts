// `npm run bench`: the send path measured at list scale. A fresh SQLite file with N subscribers
// (realistic topic mixes) and three weeks of articles; the product's own functions build the
// editions, render the variants, personalize, enqueue and send (in a child process, as
// `recap digest send` does) to Postfix's smtp-sink, or to smtp-server here without Postfix; then
// smtp-source against the same sink says what the wire allows. Prints a table and writes JSON to
// bench/results/. Never part of `npm test`.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { openDb } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { WEEKLY_AI_RECAP } from '../db/migrations/0001_initial.ts';
import { importArticles } from '../src/articles/import.ts';
import { findList } from '../src/audience/lists.ts';
import { subscriberLinks } from '../src/audience/tokens.ts';
import { loadConfig } from '../src/config.ts';
import { systemClock } from '../src/context.ts';
import { generateDkimKey } from '../src/delivery/dkim.ts';
import { enqueueDeliveries } from '../src/delivery/enqueue.ts';
import { audienceByVariant, topicsOfSubscribers } from '../src/delivery/variants.ts';
import { type Edition, editionForRender, editionTopics, ensureEdition } from '../src/editions/editions.ts';
import { weekOf } from '../src/editions/week.ts';
import { renderSettings } from '../src/recap.ts';
import { variantKey } from '../src/render/arrange.ts';
import { personalize } from '../src/render/personalize.ts';
import { type RenderedVariant, renderVariant } from '../src/render/variant.ts';
import { table } from '../src/cli/output.ts';
import { articlesForWeek, generateSubscribers, insertSubscribers, type SampleArticle, topicsByPopularity } from './population.ts';
import type { SendFigures } from './send.ts';
import { findPostfixTool, POSTFIX_INSTALL, runSmtpSource, type Sink, type SourceResult, startInProcessSink, startPostfixSink } from './sinks.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLE = join(ROOT, 'data/sample/articles.json');
/** Personalization is timed over this many recipients at most: enough for a stable mean. */
const PERSONALIZE_SAMPLE = 20_000;

const count = (min: number) => (value: string) => {
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number of at least ${min}`);
  return n;
};

const program = new Command('bench')
  .description('measure the send path: render, personalize, enqueue and send N messages to a local SMTP sink')
  .option('--subscribers <n>', 'subscribers in the list', count(1), 100_000)
  .option('--quick', 'a fast check: 10,000 subscribers unless --subscribers says otherwise')
  .option('--articles <n>', "articles in each week (the sample week's 14, repeated if more)", count(3), 14)
  .option('--connections <n>', 'SMTP connections (SMTP_POOL_SIZE) for Recap and smtp-source sessions', count(1), 5)
  .option('--rate <n>', 'RECAP_RATE for the sends; 0 is unpaced', count(0), 0)
  .option('--workers <n>', 'RECAP_WORKERS for the sends (default: one per core; 0: compose on the main thread)', count(0))
  .option('--no-dkim', 'skip the DKIM-signed send')
  .addOption(new Option('--sink <kind>', 'where mail goes').choices(['auto', 'postfix', 'inprocess']).default('auto'))
  .option('--out <dir>', 'folder for the JSON results', join(ROOT, 'bench/results'))
  .option('--keep', 'keep the temporary database and print where it is')
  .parse();

interface Options {
  subscribers: number;
  quick?: boolean;
  articles: number;
  connections: number;
  rate: number;
  workers?: number;
  dkim: boolean;
  sink: 'auto' | 'postfix' | 'inprocess';
  out: string;
  keep?: boolean;
}
const opts = program.opts<Options>();
if (opts.quick && program.getOptionValueSource('subscribers') === 'default') opts.subscribers = 10_000;

const step = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mb = (bytes: number) => `${fmt(bytes / 1_048_576)} MB`;

async function timed<T>(work: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

const work = mkdtempSync(join(os.tmpdir(), 'recap-bench-'));
const secret = randomBytes(32).toString('hex');
const env = {
  DATABASE_URL: join(work, 'recap.db'),
  OUTBOX_DIR: join(work, 'outbox'),
  RECAP_SECRET: secret,
  SMTP_POOL_SIZE: String(opts.connections),
  RECAP_RATE: String(opts.rate),
  ...(opts.workers !== undefined ? { RECAP_WORKERS: String(opts.workers) } : {}),
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
  if (opts.keep) step(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    step(`${signal}: stopping the bench`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/** One send in a process of its own, exactly as `recap digest send --week WEEK` would. */
function sendInChild(week: string, extraEnv: Record<string, string>): Promise<SendFigures> {
  const childEnv = {
    // Only what a process needs from ours: a developer's RECAP_* or SMTP_URL must not leak in.
    ...Object.fromEntries(['PATH', 'HOME', 'TMPDIR', 'NODE_ENV'].flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : []))),
    ...env,
    ...extraEnv,
  };
  const child = fork(join(ROOT, 'bench/send.ts'), [week], { cwd: ROOT, env: childEnv, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  return new Promise((resolvePromise, reject) => {
    let figures: SendFigures | undefined;
    child.on('message', (m) => (figures = m as SendFigures));
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      if (figures && code === 0) resolvePromise(figures);
      else reject(new Error(`the send of ${week} ended with code ${code}`));
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
  const figures = await sendInChild(week, extraEnv);
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

/** personalize() over a sample of real recipients, each with the variant it would get. */
async function measurePersonalization(db: ReturnType<typeof openDb>, edition: Edition, rendered: Map<string, RenderedVariant>) {
  const topics = editionTopics(edition);
  const rows = await db.selectFrom('subscribers').select(['id', 'email', 'name']).orderBy('id').limit(PERSONALIZE_SAMPLE).execute();
  const followed = new Map<number, string[]>();
  for (let i = 0; i < rows.length; i += 1000) {
    for (const [id, t] of await topicsOfSubscribers(db, rows.slice(i, i + 1000).map((r) => r.id), topics)) followed.set(id, t);
  }
  const recipients = rows.map((r) => {
    const v = rendered.get(variantKey(followed.get(r.id) ?? [], topics));
    if (!v) throw new Error(`subscriber ${r.id} has no rendered variant`);
    return { ...r, variant: { html: v.html, text: v.text, placeholder_nonce: v.nonce } };
  });
  const links = await timed(() => recipients.map((r) => subscriberLinks(config.baseUrl, secret, r.id, edition.list.id)));
  let chars = 0;
  const fill = await timed(() => {
    recipients.forEach((r, i) => {
      const l = links.value[i] as { unsubscribeUrl: string; preferencesUrl: string };
      const body = personalize(r.variant, { name: r.name ?? 'there', email: r.email, unsubscribe_url: l.unsubscribeUrl, preferences_url: l.preferencesUrl });
      chars += body.html.length + body.text.length;
    });
  });
  return {
    recipients: recipients.length,
    usPerRecipient: (fill.ms * 1000) / recipients.length,
    signedLinksUsPerRecipient: (links.ms * 1000) / recipients.length,
    meanBodyChars: chars / recipients.length,
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
    for (const back of [2, 1, 0]) {
      const articles = articlesForWeek(sample, back, opts.articles);
      const imported = await importArticles(db, JSON.stringify(articles), { now: new Date(), format: 'json' });
      if (imported.failed > 0) throw new Error(`sample articles failed to import: ${JSON.stringify(imported.results.filter((r) => r.outcome === 'failed'))}`);
      weeks.push(weekOf(new Date(articles[0]?.collectedAt as string), config.timeZone));
    }
    const [measureWeek, unsignedWeek, signedWeek] = weeks as [string, string, string];

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
    step('personalizing…');
    const personalization = await measurePersonalization(db, measureEdition, variants.rendered);
    step(`  ${fmt(personalization.usPerRecipient, 1)} µs per recipient`);
    step('enqueueing…');
    const enqueue = await timed(() => enqueueDeliveries(db, measureEdition, undefined, new Date()));
    const enqueued = { rows: enqueue.value, ms: enqueue.ms, rowsPerSecond: enqueue.value / (enqueue.ms / 1000) };
    step(`  ${fmt(enqueued.rows)} rows in ${fmt(enqueued.ms)} ms`);
    return {
      weeks: { measure: measureWeek, unsigned: unsignedWeek, signed: signedWeek },
      stories: measureEdition.stories.length,
      editionTopics: [...editionTopics(measureEdition)],
      population: { subscribers: population.value, insertMs: population.ms, topicsFollowed: mix },
      variants: variants.summary,
      personalization,
      enqueue: enqueued,
    };
  } finally {
    await db.destroy();
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  step(`Recap bench: ${fmt(opts.subscribers)} subscribers, ${opts.connections} connections, RECAP_RATE=${opts.rate}, in ${work}`);
  const measured = await prepareAndMeasureSteps();

  sink = await chooseSink();
  step(`sink: ${sink.description} on 127.0.0.1:${sink.port}`);
  const smtp = { SMTP_URL: `smtp://127.0.0.1:${sink.port}` };
  const unsigned = await measuredSend('unsigned', measured.weeks.unsigned, smtp);
  let signed: SendResult | undefined;
  if (opts.dkim) {
    const keyFile = join(work, 'dkim.pem');
    writeFileSync(keyFile, generateDkimKey(2048).privateKeyPem, { mode: 0o600 });
    signed = await measuredSend('DKIM-signed', measured.weeks.signed, { ...smtp, DKIM_DOMAIN: 'example.com', DKIM_SELECTOR: 'bench', DKIM_PRIVATE_KEY_FILE: keyFile });
  }

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
  }
  const sinkFacts = { kind: sink.kind, description: sink.description, bytesMeaning: sink.bytesMeaning };
  await sink.close();
  sink = undefined;

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
    options: { subscribers: opts.subscribers, articles: opts.articles, connections: opts.connections, rate: opts.rate, dkim: opts.dkim, sink: opts.sink },
    sink: sinkFacts,
    ...measured,
    sends: { unsigned, ...(signed ? { signed } : {}) },
    smtpSource: 'msgsPerSecond' in source ? { available: true, ...source } : source,
    benchProcess: { peakRssBytes: process.resourceUsage().maxRSS * 1024 },
  };
  mkdirSync(opts.out, { recursive: true });
  const file = join(opts.out, `${startedAt.toISOString().replace(/[:.]/g, '-')}-${opts.subscribers}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  printSummary(results, source);
  console.log(`\nResults: ${file}`);
}

function printSummary(r: { variants: { count: number; meanMs: number; medianMs: number; firstMs: number }; personalization: { usPerRecipient: number; signedLinksUsPerRecipient: number }; enqueue: { rows: number; rowsPerSecond: number }; sends: Record<string, SendResult>; machine: { cpus: number; cpuModel: string; node: string; loadAverageBefore: number[]; loadAverageAfter: number[] }; sink: { kind: string } }, source: SourceResult | { available: false; why: string }): void {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`\nRecap bench · ${fmt(opts.subscribers)} subscribers · ${opts.connections} connections · RECAP_RATE=${opts.rate} · ${r.sink.kind} sink`);
  console.log(`${r.machine.cpus} × ${r.machine.cpuModel} · Node ${r.machine.node} · load ${load(r.machine.loadAverageBefore)} → ${load(r.machine.loadAverageAfter)}\n`);
  const rows = [
    ['variants', `${r.variants.count}`, `${fmt(r.variants.meanMs, 1)} ms each (median ${fmt(r.variants.medianMs, 1)}, first ${fmt(r.variants.firstMs)})`],
    ['personalization', `${fmt(r.personalization.usPerRecipient, 1)} µs/recipient`, `signed links ${fmt(r.personalization.signedLinksUsPerRecipient, 1)} µs/recipient`],
    ['enqueue', `${fmt(r.enqueue.rowsPerSecond)} rows/s`, `${fmt(r.enqueue.rows)} rows`],
  ];
  for (const [name, s] of Object.entries(r.sends)) {
    const ratio = s.ratioToSmtpSource === undefined ? 'ratio n/a' : `${(s.ratioToSmtpSource * 100).toFixed(1)} % of smtp-source`;
    rows.push([`send, ${name}`, `${fmt(s.msgsPerSecond)} msgs/s`, `${ratio} · ${fmt(s.submitted)} in ${seconds(s.totalMs)} · ${s.meanMessageBytes === null ? '?' : fmt(s.meanMessageBytes)} B/msg · peak RSS ${mb(s.peakRssBytes)} · CPU ${fmt(s.cpuSeconds, 1)} s`]);
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

// Each recipient's finished message (links signed, values spliced into the variant's template,
// DKIM-signed), made in worker threads so a send uses every core: the main thread keeps the
// database and the SMTP connections, the workers only compute (RECAP_WORKERS, one per core by
// default; 0 composes on the main thread). A worker that lacks a variant's template asks for the
// variant once; templates are kept in a small cache, so memory stays flat however many variants
// a send needs (deliveries are queued grouped by variant, see enqueue.ts).
import { Worker } from 'node:worker_threads';
import type { VariantRow } from '../../db/schema.ts';
import { greetingName } from '../audience/first-name.ts';
import { subscriberLinks } from '../audience/tokens.ts';
import type { Config } from '../config.ts';
import { keyedHmac } from '../hmac.ts';
import { newMessageTag } from '../render/personalize.ts';
import { type MessageTemplate, messageTemplate, spliceMessage } from './mime-template.ts';

/** What every message of one send shares. */
export interface SendContext {
  config: Config;
  secret: string;
  editionId: number;
  listId: number;
  listSlug: string;
  listName: string;
}

export interface ComposeJob {
  /** The variant's topics key. */
  key: string;
  deliveryId: number;
  subscriberId: number;
  email: string;
  /** For the To header. */
  name: string | null;
  /** The stored first name; the greeting falls back on `name` (src/audience/first-name.ts). */
  firstName: string | null;
  /** The Date header, in ms. */
  date: number;
}

export interface Composed {
  raw: Buffer;
  messageId: string;
}

/** A variant's body and its own subject (rendered with it, once per variant). */
export type VariantBody = Pick<VariantRow, 'html' | 'text' | 'placeholder_nonce' | 'subject'>;
export type VariantSource = (key: string) => Promise<VariantBody>;

export interface Composer {
  compose(job: ComposeJob): Promise<Composed>;
  close(): Promise<void>;
}

/** Templates kept per thread: enough for the variants in flight, retries and a batch's edges. */
const TEMPLATES_KEPT = 8;

/** A Message-ID that is the same for every attempt of a delivery, so receivers can spot a repeat. */
export function deliveryMessageId(config: Pick<Config, 'from'>, secret: string, editionId: number, deliveryId: number): string {
  const tag = keyedHmac(secret)(`message-id:${editionId}:${deliveryId}`).slice(0, 16);
  return `<recap.${editionId}.${deliveryId}.${tag}@${config.from.address.split('@')[1]}>`;
}

/** One recipient's message from the variant's template. */
export function composeFor(ctx: SendContext, template: MessageTemplate, job: ComposeJob): Composed {
  const links = subscriberLinks(ctx.config.baseUrl, ctx.secret, job.subscriberId, ctx.listId);
  const messageId = deliveryMessageId(ctx.config, ctx.secret, ctx.editionId, job.deliveryId);
  const raw = spliceMessage(template, {
    recipient: { email: job.email, name: job.name },
    // The tag is made here and goes nowhere but into the message's links (no cost without RECAP_TRACK_CLICKS).
    values: { name: greetingName(job), email: job.email, unsubscribe_url: links.unsubscribeUrl, preferences_url: links.preferencesUrl, message_tag: ctx.config.trackClicks ? newMessageTag(new Date(job.date)) : '' },
    unsubscribeUrl: links.unsubscribeUrl,
    unsubscribeToken: links.unsubscribeUrl.slice(links.unsubscribeUrl.lastIndexOf('/') + 1),
    messageId,
    date: new Date(job.date),
  });
  return { raw, messageId };
}

/** The most recently used templates, each built once while it stays in the cache. */
export function templateCache(ctx: SendContext, capacity = TEMPLATES_KEPT) {
  const kept = new Map<string, Promise<MessageTemplate>>();
  const keep = (key: string, template: Promise<MessageTemplate>) => {
    kept.delete(key);
    kept.set(key, template); // most recent last
    if (kept.size > capacity) kept.delete(kept.keys().next().value as string);
    return template;
  };
  return {
    /** The kept template, now the most recent; undefined when it is not kept. */
    find(key: string): Promise<MessageTemplate> | undefined {
      const template = kept.get(key);
      return template && keep(key, template);
    },
    /** The template, built from the variant's body unless it is kept. */
    get(key: string, variant: () => Promise<VariantBody>): Promise<MessageTemplate> {
      return this.find(key) ?? keep(key, variant().then((v) => messageTemplate(ctx.config, v, { subject: v.subject, listSlug: ctx.listSlug, listName: ctx.listName })));
    },
  };
}

export function inlineComposer(ctx: SendContext, variants: VariantSource): Composer {
  const templates = templateCache(ctx);
  return {
    async compose(job) {
      return composeFor(ctx, await templates.get(job.key, () => variants(job.key)), job);
    },
    async close() {},
  };
}

/**
 * Messages between the main thread and a worker (composer-worker.ts). Jobs go in groups, and
 * finished messages come back in groups: every message between threads wakes the other one, and
 * on a busy machine a wake-up can cost the sender its core for a while (one post a message cost
 * ~150 µs of the main thread's time on average, most of it waiting to run again). A job comes
 * again with the variant's body (or why there is none) once the worker has asked for it.
 */
export type Job = { id: number; job: ComposeJob };
export type ToWorker = { jobs: Job[] } | (Job & { variant?: VariantBody; variantError?: string });
export type Done = { id: number; raw: ArrayBuffer; messageId: string } | { id: number; error: string };
export type FromWorker = { done: Done[] } | { id: number; needs: string };

/** How many more jobs in flight than the least busy worker a variant's worker may have before another helps. */
const SPILL = 8;

/** `count` worker threads; the jobs go in groups, each variant's to one worker while it keeps up. */
export function workerComposer(ctx: SendContext, variants: VariantSource, count: number): Composer {
  const pending = new Map<number, { job: ComposeJob; worker?: Worker; resolve: (c: Composed) => void; reject: (e: Error) => void }>();
  const load = new Map<Worker, number>();
  let failure: Error | undefined;
  let nextId = 0;
  const workers = Array.from({ length: count }, () => {
    const worker = startWorker(ctx);
    load.set(worker, 0);
    worker.on('message', (m: FromWorker) => {
      if ('needs' in m) {
        const p = pending.get(m.id);
        if (!p) return;
        variants(m.needs).then(
          (variant) => worker.postMessage({ id: m.id, job: p.job, variant } satisfies ToWorker),
          (e: unknown) => worker.postMessage({ id: m.id, job: p.job, variantError: (e as Error).message } satisfies ToWorker),
        );
        return;
      }
      for (const d of m.done) {
        if ('error' in d) settle(d.id, new Error(d.error));
        else settle(d.id, undefined, { raw: Buffer.from(d.raw), messageId: d.messageId });
      }
    });
    worker.on('error', (e) => fail(e));
    worker.on('exit', (code) => fail(new Error(`a composing worker stopped (exit code ${code})`)));
    return worker;
  });
  const settle = (id: number, error?: Error, composed?: Composed) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (p.worker) load.set(p.worker, (load.get(p.worker) ?? 1) - 1);
    if (composed) p.resolve(composed);
    else p.reject(error as Error);
  };
  const fail = (e: Error) => {
    failure ??= e;
    for (const id of [...pending.keys()]) settle(id, e);
  };
  // A variant's jobs stay with the worker that has its template (building one costs as much as
  // dozens of messages), unless that worker is further behind than the others by SPILL jobs: then
  // the least busy one takes it (and builds the template too), so a long run of one variant still
  // uses every core when composing is the slower part (DKIM).
  const owner = new Map<string, Worker>();
  const leastBusy = () => workers.reduce((a, b) => ((load.get(b) ?? 0) < (load.get(a) ?? 0) ? b : a));
  const workerFor = (key: string): Worker => {
    const idle = leastBusy();
    const kept = owner.get(key);
    if (kept && (load.get(kept) ?? 0) - (load.get(idle) ?? 0) <= SPILL) return kept;
    owner.delete(key); // most recent last: the oldest are dropped first
    owner.set(key, idle);
    if (owner.size > TEMPLATES_KEPT * count) owner.delete(owner.keys().next().value as string);
    return idle;
  };
  // The jobs asked for in one turn of the event loop go out after it, one post per worker.
  let group: Job[] = [];
  const post = () => {
    const jobs = group;
    group = [];
    if (failure) return; // its jobs are settled already
    const shares = new Map<Worker, Job[]>();
    for (const j of jobs) {
      const p = pending.get(j.id);
      if (!p) continue;
      const worker = workerFor(j.job.key);
      load.set(worker, (load.get(worker) ?? 0) + 1);
      p.worker = worker;
      const share = shares.get(worker);
      if (share) share.push(j);
      else shares.set(worker, [j]);
    }
    for (const [worker, share] of shares) worker.postMessage({ jobs: share } satisfies ToWorker);
  };
  return {
    compose(job) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      if (group.length === 0) setImmediate(post);
      group.push({ id, job });
      // Its worker is chosen when the group goes out.
      return new Promise<Composed>((resolve, reject) => pending.set(id, { job, resolve, reject }));
    },
    async close() {
      failure ??= new Error('the composer is closed');
      for (const w of workers) w.removeAllListeners('exit');
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * The worker runs composer-worker.ts, or its build (.js). From TypeScript sources it is started
 * through tsx, with the project's tsconfig, as bin/recap.js starts the CLI.
 */
function startWorker(ctx: SendContext): Worker {
  const self = import.meta.url;
  const entry = new URL(self.endsWith('.ts') ? './composer-worker.ts' : './composer-worker.js', self);
  // Small heaps: a thread holds a few templates (~130 KB each) and short-lived pieces of messages;
  // V8's defaults let each thread's heap grow to tens of MB of garbage (bench, 30,000 readers:
  // peak RSS 420 → 356 MB).
  const options = { workerData: ctx, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 128 } };
  if (!self.endsWith('.ts')) return new Worker(entry, options);
  const tsconfig = new URL('../../tsconfig.json', self).pathname;
  const boot = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};
register({ tsconfig: ${JSON.stringify(tsconfig)} });
await import(${JSON.stringify(entry.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), options);
}

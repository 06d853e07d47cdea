// A composing worker thread (see composers.ts): recipients in, finished messages out, each
// message's bytes handed over to the main thread without a copy.
import { parentPort, workerData } from 'node:worker_threads';
import { composeFor, type Done, type FromWorker, type Job, type SendContext, templateCache, type ToWorker, type VariantBody } from './composers.ts';
import type { MessageTemplate } from './mime-template.ts';

const ctx = workerData as SendContext;
const templates = templateCache(ctx);
const port = parentPort as NonNullable<typeof parentPort>;
/** Jobs waiting for a variant this thread has asked for: it is asked once, however many wait. */
const waiting = new Map<string, Job[]>();

port.on('message', (m: ToWorker) => {
  if ('jobs' in m) for (const job of m.jobs) take(job);
  else take(m);
});

function take(m: Job & { variant?: VariantBody; variantError?: string }): void {
  const { key } = m.job;
  const kept = templates.find(key);
  if (kept) return compose(kept, [m]);
  if (m.variant === undefined && m.variantError === undefined) {
    const queue = waiting.get(key);
    if (queue) queue.push(m);
    else {
      waiting.set(key, []);
      port.postMessage({ id: m.id, needs: key } satisfies FromWorker);
    }
    return;
  }
  const jobs = [m, ...(waiting.get(key) ?? [])];
  waiting.delete(key);
  const { variant, variantError } = m;
  compose(variant ? templates.get(key, async () => variant) : Promise.reject(new Error(variantError)), jobs);
}

function compose(template: Promise<MessageTemplate>, jobs: Job[]): void {
  for (const { id, job } of jobs) template.then((t) => finished(id, composeFor(ctx, t, job))).catch((e: unknown) => fail(id, e));
}

// What is finished in one turn goes back in one message, after it (see composers.ts).
let done: Done[] = [];
let moving: ArrayBuffer[] = [];
function send(d: Done, buffer?: ArrayBuffer): void {
  if (done.length === 0) setImmediate(flush);
  done.push(d);
  if (buffer) moving.push(buffer);
}
function flush(): void {
  port.postMessage({ done } satisfies FromWorker, moving);
  done = [];
  moving = [];
}

function finished(id: number, { raw, messageId }: ReturnType<typeof composeFor>): void {
  // A message with an ArrayBuffer of its own moves to the main thread; one inside Node's shared
  // pool of small buffers is copied out first.
  let own = raw;
  if (raw.byteOffset !== 0 || raw.byteLength !== raw.buffer.byteLength) {
    own = Buffer.allocUnsafeSlow(raw.byteLength);
    raw.copy(own);
  }
  const buffer = own.buffer as ArrayBuffer;
  send({ id, raw: buffer, messageId }, buffer);
}

function fail(id: number, e: unknown): void {
  send({ id, error: (e as Error).message });
}

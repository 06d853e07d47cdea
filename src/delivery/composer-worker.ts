// A composing worker thread (see composers.ts): recipients in, finished messages out, each
// message's bytes handed over to the main thread without a copy.
import { parentPort, workerData } from 'node:worker_threads';
import { composeFor, type FromWorker, type SendContext, templateCache, type ToWorker } from './composers.ts';

const ctx = workerData as SendContext;
const templates = templateCache(ctx);
const port = parentPort as NonNullable<typeof parentPort>;

port.on('message', (m: ToWorker) => {
  void handle(m).then(
    (reply) => {
      if ('raw' in reply) port.postMessage(reply, [reply.raw]);
      else port.postMessage(reply);
    },
    (e: unknown) => port.postMessage({ id: m.id, error: (e as Error).message } satisfies FromWorker),
  );
});

async function handle({ id, job, variant }: ToWorker): Promise<FromWorker> {
  if (!templates.has(job.key) && !variant) return { id, needs: job.key };
  const template = await templates.get(job.key, async () => variant as NonNullable<typeof variant>);
  const { raw, messageId } = composeFor(ctx, template, job);
  // A message with an ArrayBuffer of its own moves to the main thread; one inside Node's shared
  // pool of small buffers is copied out first.
  let own = raw;
  if (raw.byteOffset !== 0 || raw.byteLength !== raw.buffer.byteLength) {
    own = Buffer.allocUnsafeSlow(raw.byteLength);
    raw.copy(own);
  }
  return { id, raw: own.buffer as ArrayBuffer, messageId };
}

// Bounce and complaint webhooks for sending providers: a documented generic JSON shape, and Amazon
// SES notifications (through SNS). Authenticated by RECAP_WEBHOOK_SECRET; closed without it.
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { applyReportedBounce, emptyReport } from '../audience/bounce-import.ts';
import { sesBounces } from '../audience/bounce-formats/ses.ts';
import type { ReportedBounce } from '../audience/bounce-reports.ts';
import { classifyReply, enhancedStatus } from '../delivery/classify.ts';
import { presentedSecret, sameSecret } from './auth.ts';
import type { WebDeps } from './context.ts';

/**
 * The generic shape: one event, an array of them, or `{ "events": [...] }`.
 * { "type": "bounce" | "complaint", "email": "a@example.com", "bounceType": "hard" | "soft",
 *   "status": "5.1.1", "diagnostic": "550 5.1.1 user unknown", "messageId": "<…>" }
 */
const genericEvent = z.object({
  type: z.enum(['bounce', 'complaint']),
  email: z.string().max(254).optional(),
  bounceType: z.enum(['hard', 'soft']).optional(),
  status: z.string().max(20).optional(),
  diagnostic: z.string().max(2000).optional(),
  messageId: z.string().max(500).optional(),
});
const genericBody = z.union([genericEvent, z.array(genericEvent).max(1000), z.object({ events: z.array(genericEvent).max(1000) })]);

function fromClassified(email: string | null, messageId: string | null, status: string | null, diagnostic: string | null, fallback: 'hard' | 'soft'): ReportedBounce {
  if (!status && !diagnostic) return { email, messageId, kind: fallback, reason: fallback === 'hard' ? 'userunknown' : 'undefined', status: null, diagnostic: null, source: 'webhook' };
  const text = `${status ?? ''} ${diagnostic ?? ''}`.trim();
  const c = classifyReply(Number(/\b([45]\d\d)\b/.exec(diagnostic ?? '')?.[1]) || (status?.startsWith('4') ? 450 : 550), text);
  const kind = c.class === 'transient' ? 'delayed' : c.class;
  return { email, messageId, kind, reason: c.reason, status: status ?? enhancedStatus(diagnostic ?? '') ?? c.status, diagnostic, source: 'webhook' };
}

export function bounceRoutes(app: Hono, deps: WebDeps): void {
  const authorised = (c: Context) => deps.config.webhookSecret !== undefined && sameSecret(presentedSecret(c), deps.config.webhookSecret);
  const closed = (c: Context) => c.json({ error: 'bounce webhooks are closed: RECAP_WEBHOOK_SECRET is not set' }, 403);
  const denied = (c: Context) => {
    c.header('WWW-Authenticate', 'Basic realm="recap"');
    return c.json({ error: 'a valid shared secret is required' }, 401);
  };
  const record = async (events: ReportedBounce[]) => {
    const report = emptyReport();
    for (const e of events) await applyReportedBounce(deps.db, deps.config, deps.secret, e, deps.clock.now(), report);
    deps.log(`bounce webhook: ${JSON.stringify(report.recorded)}, ${report.delayed} delayed, ${report.suppressed} suppressed`);
    return { recorded: report.recorded, delayed: report.delayed, suppressed: report.suppressed, unmatched: report.unmatched };
  };

  app.post('/api/bounces', async (c) => {
    if (!deps.config.webhookSecret) return closed(c);
    if (!authorised(c)) return denied(c);
    const parsed = genericBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json({ error: 'expected a bounce/complaint event, an array of them, or {"events": [...]}', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, 400);
    const list = Array.isArray(parsed.data) ? parsed.data : 'events' in parsed.data ? parsed.data.events : [parsed.data];
    const events = list.map((e) =>
      e.type === 'complaint'
        ? { email: e.email?.toLowerCase() ?? null, messageId: e.messageId ?? null, kind: 'complaint' as const, reason: 'complaint' as const, status: null, diagnostic: null, source: 'webhook' as const }
        : fromClassified(e.email?.toLowerCase() ?? null, e.messageId ?? null, e.status ?? null, e.diagnostic ?? null, e.bounceType ?? 'soft'),
    );
    return c.json(await record(events));
  });

  app.post('/api/bounces/ses', async (c) => {
    if (!deps.config.webhookSecret) return closed(c);
    if (!authorised(c)) return denied(c);
    // SNS posts JSON as text/plain.
    let envelope: Record<string, unknown>;
    try {
      envelope = JSON.parse(await c.req.text()) as Record<string, unknown>;
    } catch {
      return c.json({ error: 'the body is not JSON' }, 400);
    }
    if (envelope.Type === 'SubscriptionConfirmation') {
      // Recap fetches no URL a request hands it; the operator confirms the subscription once.
      deps.log(`SNS asks to confirm the subscription of ${String(envelope.TopicArn ?? 'a topic')}: open ${String(envelope.SubscribeURL ?? '(no URL)')} once to confirm`);
      return c.json({ ok: true, note: 'open the SubscribeURL from the log once to confirm the subscription' });
    }
    let message: Record<string, unknown> = envelope;
    if (envelope.Type === 'Notification') {
      try {
        message = JSON.parse(String(envelope.Message ?? '')) as Record<string, unknown>;
      } catch {
        return c.json({ error: 'the SNS Message is not SES JSON' }, 400);
      }
    }
    return c.json(await record(sesBounces(message, 'webhook')));
  });
}

// The bounce webhooks as sending providers call them: the generic JSON shape (POST /api/bounces)
// and Amazon SES notifications delivered by SNS (POST /api/bounces/ses), on a real database.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SubscriberStatus } from '../../db/schema.ts';
import { hashEmail } from '../../src/audience/email.ts';
import { deliveryMessageId } from '../../src/delivery/composers.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { TEST_SECRET } from '../helpers/context.ts';
import { createWebTest, type WebTest } from '../helpers/web.ts';

const SECRET = 'webhook-secret-0123456789abcdef';
const BEARER = { Authorization: `Bearer ${SECRET}` };
const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const JSON_TYPE = { 'Content-Type': 'application/json' };

/** What SNS sends with every HTTP(S) delivery: JSON labelled text/plain, no Origin, no Sec-Fetch-*. */
function snsHeaders(type: 'Notification' | 'SubscriptionConfirmation'): Record<string, string> {
  return {
    'Content-Type': 'text/plain; charset=UTF-8',
    'User-Agent': 'Amazon Simple Notification Service Agent',
    'x-amz-sns-message-type': type,
    'x-amz-sns-message-id': '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    'x-amz-sns-topic-arn': TOPIC,
    ...basic('sns', SECRET),
  };
}

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:recap-ses-feedback';
const READERS = ['hard@example.com', 'soft@example.net', 'policy@example.org', 'complaint@example.com', 'ses-gone@example.org', 'ses-blocked@example.com', 'ses-full@example.net', 'ses-angry@example.org', 'bystander@example.com'];

let t: WebTest;

beforeEach(async () => {
  t = await createWebTest({ RECAP_WEBHOOK_SECRET: SECRET });
  for (const email of READERS) await addSubscriber(t.ctx, email);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await t.close();
});

function post(path: string, body: unknown, headers: Record<string, string> = { ...JSON_TYPE, ...BEARER }) {
  return t.app.request(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers });
}

async function statusOf(email: string): Promise<SubscriberStatus> {
  return (await t.ctx.db.selectFrom('subscribers').select('status').where('email', '=', email).executeTakeFirstOrThrow()).status;
}

async function suppression(email: string) {
  return t.ctx.db.selectFrom('suppressions').selectAll().where('email_hash', '=', hashEmail(email)).executeTakeFirst();
}

async function bouncesOf(email: string) {
  return t.ctx.db.selectFrom('bounces').selectAll().where('email_hash', '=', hashEmail(email)).orderBy('id').execute();
}

async function bounceCount(): Promise<number> {
  return (await t.ctx.db.selectFrom('bounces').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
}

/** A sent edition with a delivery to `email`, and the Message-ID it went out with. */
async function delivered(email: string): Promise<{ editionId: number; messageId: string }> {
  const at = t.ctx.clock.now().toISOString();
  const subscriber = await t.ctx.db.selectFrom('subscribers').select('id').where('email', '=', email).executeTakeFirstOrThrow();
  const edition = await t.ctx.db
    .insertInto('editions')
    .values({ list_id: t.ctx.listId, week: '2026-W48', number: 1, status: 'sent', subject: 'Weekly AI Recap #1', preheader: 'This week in AI', starts_at: at, ends_at: at, created_at: at, updated_at: at, sent_at: at })
    .returning('id')
    .executeTakeFirstOrThrow();
  const d = await t.ctx.db
    .insertInto('deliveries')
    .values({ edition_id: edition.id, subscriber_id: subscriber.id, status: 'submitted', attempts: 1, queued_at: at, submitted_at: at, updated_at: at })
    .returning('id')
    .executeTakeFirstOrThrow();
  const messageId = deliveryMessageId(t.ctx.config, TEST_SECRET, edition.id, d.id);
  await t.ctx.db.updateTable('deliveries').set({ message_id: messageId }).where('id', '=', d.id).execute();
  return { editionId: edition.id, messageId };
}

const NONE = { hard: 0, soft: 0, policy: 0, complaint: 0 };

describe('authentication', () => {
  it('is closed (403) when RECAP_WEBHOOK_SECRET is not set, whatever is presented', async () => {
    await t.close();
    t = await createWebTest();
    await addSubscriber(t.ctx, 'hard@example.com');
    for (const path of ['/api/bounces', '/api/bounces/ses']) {
      const res = await post(path, { type: 'bounce', email: 'hard@example.com', bounceType: 'hard' });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: 'bounce webhooks are closed: RECAP_WEBHOOK_SECRET is not set' });
    }
    expect(await statusOf('hard@example.com')).toBe('active');
  });

  it('answers 401 without the secret or with a wrong one, and records nothing', async () => {
    const event = { type: 'bounce', email: 'hard@example.com', bounceType: 'hard' };
    for (const path of ['/api/bounces', '/api/bounces/ses']) {
      for (const auth of [{}, { Authorization: 'Bearer wrong-secret-0123456789abcdef' }, basic('sns', 'wrong'), { Authorization: `Bearer ${SECRET}x` }, { Authorization: SECRET }]) {
        const res = await post(path, event, { ...JSON_TYPE, ...auth });
        expect(res.status, `${path} ${JSON.stringify(auth)}`).toBe(401);
        expect(res.headers.get('WWW-Authenticate')).toBe('Basic realm="recap"');
      }
    }
    expect(await bounceCount()).toBe(0);
    expect(await statusOf('hard@example.com')).toBe('active');
  });

  it('accepts the secret as a bearer token or as the basic-auth password', async () => {
    const bearer = await post('/api/bounces', { type: 'bounce', email: 'hard@example.com', bounceType: 'hard' }, { ...JSON_TYPE, ...BEARER });
    expect(bearer.status).toBe(200);
    const viaBasic = await post('/api/bounces', { type: 'bounce', email: 'soft@example.net', bounceType: 'soft' }, { ...JSON_TYPE, ...basic('provider', SECRET) });
    expect(viaBasic.status).toBe(200);
    expect(await viaBasic.json()).toMatchObject({ recorded: { ...NONE, soft: 1 } });
  });
});

describe('POST /api/bounces (generic JSON)', () => {
  it('records one hard bounce: suppressed, subscriber bounced', async () => {
    const res = await post('/api/bounces', { type: 'bounce', email: 'Hard@Example.com', bounceType: 'hard', status: '5.1.1', diagnostic: '550 5.1.1 <hard@example.com>: Recipient address rejected: User unknown' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ recorded: { ...NONE, hard: 1 }, delayed: 0, suppressed: 1, unmatched: 0 });
    expect(await statusOf('hard@example.com')).toBe('bounced');
    expect((await suppression('hard@example.com'))?.reason).toBe('hard bounce: userunknown');
    expect(await bouncesOf('hard@example.com')).toMatchObject([{ kind: 'hard', reason: 'userunknown', status_code: '5.1.1', source: 'webhook', edition_id: null }]);
    expect(await statusOf('bystander@example.com')).toBe('active');
  });

  it('takes an array: a soft bounce counts, a complaint marks the subscriber complained', async () => {
    const res = await post('/api/bounces', [
      { type: 'bounce', email: 'soft@example.net', bounceType: 'soft', status: '5.2.2', diagnostic: '552 5.2.2 Mailbox full' },
      { type: 'complaint', email: 'complaint@example.com' },
    ]);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ recorded: { ...NONE, soft: 1, complaint: 1 }, delayed: 0, suppressed: 1, unmatched: 0 });
    expect(await statusOf('soft@example.net')).toBe('active');
    expect(await suppression('soft@example.net')).toBeUndefined();
    expect(await bouncesOf('soft@example.net')).toMatchObject([{ kind: 'soft', reason: 'mailboxfull', status_code: '5.2.2' }]);
    expect(await statusOf('complaint@example.com')).toBe('complained');
    expect((await suppression('complaint@example.com'))?.reason).toBe('complaint');
  });

  it('takes {"events": [...]} and classifies a 5.7.x rejection as policy even when called hard', async () => {
    const res = await post('/api/bounces', {
      events: [
        { type: 'bounce', email: 'policy@example.org', bounceType: 'hard', status: '5.7.1', diagnostic: '550 5.7.1 Service unavailable, Client host [192.0.2.10] blocked using zen.spamhaus.org' },
        { type: 'bounce', email: 'bystander@example.com', bounceType: 'hard', diagnostic: '550 5.7.26 This mail has been blocked because the sender is unauthenticated.' },
      ],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ recorded: { ...NONE, policy: 2 }, delayed: 0, suppressed: 0, unmatched: 0 });
    expect(await statusOf('policy@example.org')).toBe('active');
    expect(await suppression('policy@example.org')).toBeUndefined();
    expect(await bouncesOf('policy@example.org')).toMatchObject([{ kind: 'policy', reason: 'blocked', status_code: '5.7.1' }]);
    expect(await bouncesOf('bystander@example.com')).toMatchObject([{ kind: 'policy', reason: 'securityerror', status_code: '5.7.26' }]);
    expect(await statusOf('bystander@example.com')).toBe('active');
  });

  it('a hard bounce with no detail is hard; a 4.x.x one is a delay and records nothing', async () => {
    const res = await post('/api/bounces', [
      { type: 'bounce', email: 'hard@example.com', bounceType: 'hard' },
      { type: 'bounce', email: 'soft@example.net', bounceType: 'soft', status: '4.2.2', diagnostic: '452 4.2.2 Mailbox full, try again later' },
    ]);
    expect(await res.json()).toEqual({ recorded: { ...NONE, hard: 1 }, delayed: 1, suppressed: 1, unmatched: 0 });
    expect(await bouncesOf('soft@example.net')).toEqual([]);
  });

  it('matches by our Message-ID when the event names no address', async () => {
    const { editionId, messageId } = await delivered('hard@example.com');
    const res = await post('/api/bounces', { type: 'bounce', messageId, bounceType: 'hard', status: '5.1.1' });
    expect(await res.json()).toMatchObject({ recorded: { ...NONE, hard: 1 }, suppressed: 1 });
    expect(await statusOf('hard@example.com')).toBe('bounced');
    expect(await bouncesOf('hard@example.com')).toMatchObject([{ edition_id: editionId, kind: 'hard' }]);
  });

  it('counts a report about an address we never mailed as unmatched, and still suppresses it', async () => {
    const res = await post('/api/bounces', { type: 'bounce', email: 'stranger@example.org', bounceType: 'hard', status: '5.1.1' });
    expect(await res.json()).toEqual({ recorded: { ...NONE, hard: 1 }, delayed: 0, suppressed: 1, unmatched: 1 });
    expect(await suppression('stranger@example.org')).toBeDefined();
  });

  it('answers 400 to a malformed body', async () => {
    for (const body of ['{not json', '', '"bounce"', { type: 'open', email: 'hard@example.com' }, { type: 'bounce', bounceType: 'permanent' }, { events: 'nope' }]) {
      const res = await post('/api/bounces', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain('expected a bounce/complaint event');
    }
    expect(await bounceCount()).toBe(0);
  });
});

describe('POST /api/bounces/ses (Amazon SES through SNS)', () => {
  /** An SNS Notification wrapping an SES notification. */
  function notification(message: Record<string, unknown>) {
    return {
      Type: 'Notification',
      MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
      TopicArn: TOPIC,
      Message: JSON.stringify(message),
      Timestamp: '2026-11-30T08:00:31.612Z',
      SignatureVersion: '1',
      Signature: 'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=',
      SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem',
      UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:c9135db0-26c4-47ec-8998-413945fb5a96`,
    };
  }

  function mail(to: string, messageId?: string) {
    return {
      timestamp: '2026-11-30T08:00:30.000Z',
      source: 'recap@recap.test',
      sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/recap.test',
      sourceIp: '192.0.2.10',
      sendingAccountId: '123456789012',
      messageId: '0100019a3c2b1d4e-7f8e9a0b-1c2d-4e3f-a4b5-c6d7e8f9a0b1-000000',
      destination: [to],
      headersTruncated: false,
      commonHeaders: { from: ['Weekly AI Recap <recap@recap.test>'], to: [to], ...(messageId ? { messageId } : {}), subject: 'Weekly AI Recap #1' },
    };
  }

  function bounce(bounceType: 'Permanent' | 'Transient' | 'Undetermined', bounceSubType: string, recipient: Record<string, string>, messageId?: string) {
    return {
      notificationType: 'Bounce',
      bounce: {
        feedbackId: '0100019a3c2b2f61-2e4a6c8d-0f1b-4d3e-9a5c-7e9b1d3f5a7c-000000',
        bounceType,
        bounceSubType,
        bouncedRecipients: [{ action: 'failed', ...recipient }],
        timestamp: '2026-11-30T08:00:31.000Z',
        remoteMtaIp: '198.51.100.5',
        reportingMTA: 'dsn; a1-2.smtp-out.amazonses.com',
      },
      mail: mail(recipient.emailAddress as string, messageId),
    };
  }

  // SNS labels its JSON text/plain; these send it as application/json so that what they check is
  // the SES handling (the text/plain delivery has its own test below).
  const sesPost = (body: unknown) => post('/api/bounces/ses', body, { ...JSON_TYPE, ...basic('sns', SECRET) });

  it('answers a SubscriptionConfirmation with 200 and logs the URL, fetching nothing', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const subscribeUrl = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=2336412f37fb687f5d51e6e2425dacbba9fa4ef6f8`;
    const res = await sesPost({
      Type: 'SubscriptionConfirmation',
      MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
      Token: '2336412f37fb687f5d51e6e2425dacbba9fa4ef6f8',
      TopicArn: TOPIC,
      Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: subscribeUrl,
      Timestamp: '2026-11-30T07:59:00.000Z',
      SignatureVersion: '1',
      Signature: 'EXAMPLEpH+==',
      SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(t.logs.some((line) => line.includes(subscribeUrl) && line.includes(TOPIC))).toBe(true);
    expect(await bounceCount()).toBe(0);
  });

  it('a Permanent bounce (5.1.1) suppresses, tied to the edition by our Message-ID', async () => {
    const { editionId, messageId } = await delivered('ses-gone@example.org');
    const res = await sesPost(notification(bounce('Permanent', 'General', { emailAddress: 'ses-gone@example.org', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }, messageId)));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ recorded: { ...NONE, hard: 1 }, delayed: 0, suppressed: 1, unmatched: 0 });
    expect(await statusOf('ses-gone@example.org')).toBe('bounced');
    expect((await suppression('ses-gone@example.org'))?.reason).toBe('hard bounce: userunknown');
    expect(await bouncesOf('ses-gone@example.org')).toMatchObject([{ kind: 'hard', reason: 'userunknown', status_code: '5.1.1', source: 'webhook', edition_id: editionId, diagnostic: 'smtp; 550 5.1.1 user unknown' }]);
  });

  it('a Permanent bounce whose diagnostic is 5.7.1 is policy: recorded, not suppressed', async () => {
    const res = await sesPost(
      notification(bounce('Permanent', 'General', { emailAddress: 'ses-blocked@example.com', status: '5.7.1', diagnosticCode: 'smtp; 550 5.7.1 Service unavailable, Client host [54.240.1.2] blocked using Spamhaus' })),
    );
    expect(await res.json()).toEqual({ recorded: { ...NONE, policy: 1 }, delayed: 0, suppressed: 0, unmatched: 0 });
    expect(await statusOf('ses-blocked@example.com')).toBe('active');
    expect(await suppression('ses-blocked@example.com')).toBeUndefined();
    expect(await bouncesOf('ses-blocked@example.com')).toMatchObject([{ kind: 'policy', reason: 'blocked', status_code: '5.7.1' }]);
  });

  it('a Transient bounce is soft, with or without details', async () => {
    const full = await sesPost(notification(bounce('Transient', 'MailboxFull', { emailAddress: 'ses-full@example.net', status: '5.2.2', diagnosticCode: 'smtp; 552 5.2.2 Mailbox full' })));
    expect(await full.json()).toEqual({ recorded: { ...NONE, soft: 1 }, delayed: 0, suppressed: 0, unmatched: 0 });
    const bare = await sesPost(notification(bounce('Transient', 'General', { emailAddress: 'soft@example.net' })));
    expect(await bare.json()).toEqual({ recorded: { ...NONE, soft: 1 }, delayed: 0, suppressed: 0, unmatched: 0 });
    expect(await bouncesOf('ses-full@example.net')).toMatchObject([{ kind: 'soft', reason: 'mailboxfull', status_code: '5.2.2' }]);
    expect(await bouncesOf('soft@example.net')).toMatchObject([{ kind: 'soft' }]);
    expect(await statusOf('ses-full@example.net')).toBe('active');
    expect(await suppression('ses-full@example.net')).toBeUndefined();
  });

  it('a Transient bounce is never hard, even when its diagnostic reads like one', async () => {
    const res = await sesPost(notification(bounce('Transient', 'General', { emailAddress: 'ses-full@example.net', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' })));
    expect(await res.json()).toMatchObject({ recorded: { ...NONE, soft: 1 }, suppressed: 0 });
    expect(await statusOf('ses-full@example.net')).toBe('active');
  });

  it('a Complaint marks the subscriber complained and suppresses', async () => {
    const res = await sesPost(
      notification({
        notificationType: 'Complaint',
        complaint: {
          feedbackId: '0100019a3c2b3a72-5f6e7d8c-9b0a-4c1d-8e2f-3a4b5c6d7e8f-000000',
          complainedRecipients: [{ emailAddress: 'SES-Angry@example.org' }],
          timestamp: '2026-12-01T14:12:09.000Z',
          userAgent: 'Yahoo!-Mail-Feedback/2.0',
          complaintFeedbackType: 'abuse',
          arrivalDate: '2026-11-30T08:00:31.000Z',
        },
        mail: mail('ses-angry@example.org'),
      }),
    );
    expect(await res.json()).toEqual({ recorded: { ...NONE, complaint: 1 }, delayed: 0, suppressed: 1, unmatched: 0 });
    expect(await statusOf('ses-angry@example.org')).toBe('complained');
    expect((await suppression('ses-angry@example.org'))?.reason).toBe('complaint');
    expect(await bouncesOf('ses-angry@example.org')).toMatchObject([{ kind: 'complaint', diagnostic: 'feedback-type: abuse', source: 'webhook' }]);
  });

  it('does not take a "not-spam" feedback report for a complaint (as the mailed ARF import does not)', async () => {
    const res = await sesPost(
      notification({
        notificationType: 'Complaint',
        complaint: {
          feedbackId: '0100019a3c2b3a72-5f6e7d8c-9b0a-4c1d-8e2f-3a4b5c6d7e90-000000',
          complainedRecipients: [{ emailAddress: 'ses-angry@example.org' }],
          timestamp: '2026-12-01T14:12:09.000Z',
          userAgent: 'Mozilla/5.0',
          complaintFeedbackType: 'not-spam',
          arrivalDate: '2026-11-30T08:00:31.000Z',
        },
        mail: mail('ses-angry@example.org'),
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ recorded: NONE, suppressed: 0 });
    expect(await statusOf('ses-angry@example.org')).toBe('active');
    expect(await suppression('ses-angry@example.org')).toBeUndefined();
  });

  it('takes an SES notification delivered raw (no SNS envelope), as event publishing names it', async () => {
    const { notificationType: _type, ...rest } = bounce('Permanent', 'General', { emailAddress: 'hard@example.com', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' });
    const res = await sesPost({ eventType: 'Bounce', ...rest });
    expect(await res.json()).toMatchObject({ recorded: { ...NONE, hard: 1 }, suppressed: 1 });
    expect(await statusOf('hard@example.com')).toBe('bounced');
  });

  it('answers 400 to a body that is not JSON, or an SNS Message that is not', async () => {
    expect((await sesPost('{"Type": "Notification", ')).status).toBe(400);
    expect((await sesPost('')).status).toBe(400);
    const res = await sesPost({ ...notification({}), Message: 'not json at all' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'the SNS Message is not SES JSON' });
    expect(await bounceCount()).toBe(0);
  });

  it('accepts the POST exactly as SNS makes it: text/plain, basic auth, no Origin header', async () => {
    const res = await post(
      '/api/bounces/ses',
      notification(bounce('Permanent', 'General', { emailAddress: 'ses-gone@example.org', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' })),
      snsHeaders('Notification'),
    );
    expect(res.status).toBe(200);
    expect(await statusOf('ses-gone@example.org')).toBe('bounced');
    const confirm = await post('/api/bounces/ses', { Type: 'SubscriptionConfirmation', TopicArn: TOPIC, SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription' }, snsHeaders('SubscriptionConfirmation'));
    expect(confirm.status).toBe(200);
  });
});

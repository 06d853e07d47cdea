// Table types for Kysely. Timestamps are ISO-8601 UTC strings (`Date#toISOString()`), which sort
// correctly as text in SQLite; on PostgreSQL they are timestamptz, read back as the same strings
// (db/connect.ts). Structured
// article content and segment rules are JSON text, validated with zod on the way in and out.
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export const SUBSCRIBER_STATUSES = ['pending', 'active', 'unsubscribed', 'bounced', 'complained'] as const;
export type SubscriberStatus = (typeof SUBSCRIBER_STATUSES)[number];

/** The shape of the digest a reader chose (0015): the whole edition, or headlines, hooks and one TL;DR line. */
export const FORMATS = ['full', 'brief'] as const;
export type Format = (typeof FORMATS)[number];

export const MEMBER_STATUSES = ['active', 'unsubscribed'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

export const EDITION_STATUSES = ['draft', 'approved', 'sending', 'sent', 'skipped', 'paused', 'cancelled'] as const;
export type EditionStatus = (typeof EDITION_STATUSES)[number];

/**
 * queued → claimed → submitted; or deferred (retried at next_attempt_at), failed (permanent),
 * skipped (may no longer be mailed), uncertain (claimed by a sender that died: it may or may not
 * have gone out, so it is reported, not silently re-sent).
 */
export const DELIVERY_STATUSES = ['queued', 'claimed', 'submitted', 'deferred', 'failed', 'skipped', 'uncertain'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface ArticlesTable {
  id: Generated<number>;
  /** Dedup key: the URL with tracking parameters and fragment removed. */
  canonical_url: string;
  url: string;
  title: string;
  source_name: string;
  source_url: string | null;
  published_at: string | null;
  collected_at: string;
  hook: string;
  score: number;
  /** JSON of ArticleContent: tldr, takeaways, competitors, deepDive, predictions, timeline. */
  content: string;
  created_at: string;
  updated_at: string;
}

export interface ArticleTopicsTable {
  article_id: number;
  topic: string;
  /** 0 is the article's primary topic. */
  position: number;
}

export interface ListsTable {
  id: Generated<number>;
  slug: string;
  name: string;
  created_at: string;
  /** 1: click rates of recent editions weigh the next edition's stories (with RECAP_TRACK_CLICKS); the desk's switch (0019). */
  click_weighting: Generated<number>;
}

export interface SubscribersTable {
  id: Generated<number>;
  /** Lower-cased, trimmed. */
  email: string;
  /** sha256 of `email`; suppressions match on it so an erased address stays suppressed. */
  email_hash: string;
  name: string | null;
  /** What the greeting calls them; null: derived from `name` (src/audience/first-name.ts). */
  first_name: string | null;
  status: SubscriberStatus;
  created_at: string;
  updated_at: string;
  consent_at: string | null;
  consent_source: string | null;
  consent_ip: string | null;
  consent_user_agent: string | null;
  confirmed_at: string | null;
  /** Set while the subscriber has paused the recap; they receive nothing until they resume. */
  paused_at: string | null;
  /** When the subscription request awaiting confirmation was made (its link is bound to the membership's nonce). */
  confirm_requested_at: string | null;
  format: Generated<Format>;
  /** An IANA zone ("Asia/Tokyo") for RECAP_LOCAL_SEND_TIME; null: the list's (RECAP_TIMEZONE). */
  time_zone: string | null;
}

export interface SubscriberTopicsTable {
  subscriber_id: number;
  topic: string;
}

export interface SubscriberAttributesTable {
  subscriber_id: number;
  name: string;
  value: string;
}

export interface ListMembersTable {
  list_id: number;
  subscriber_id: number;
  status: MemberStatus;
  created_at: string;
  updated_at: string;
  /** The nonce of the latest confirmation link for this list; a link carrying another is spent. */
  confirm_nonce: string | null;
}

/**
 * A subscription request waiting for the worker, which creates or updates the subscriber and mails
 * the confirmation; the row is deleted when that is done. `subscriber_id` and `confirm_nonce` are
 * set in the same transaction as the subscriber's change, so a retry mails the same link.
 */
export interface SubscriptionRequestsTable {
  id: Generated<number>;
  list_id: number;
  email: string;
  name: string | null;
  /** JSON array of topic slugs. */
  topics: string;
  /** The IANA zone chosen on the form (local send time); null: the list's. */
  time_zone: Generated<string | null>;
  /** The format chosen with the request (0016); it becomes the subscriber's. */
  format: Generated<Format>;
  /** form, api or preferences */
  source: string;
  ip: string | null;
  user_agent: string | null;
  requested_at: string;
  subscriber_id: number | null;
  confirm_nonce: string | null;
  attempts: Generated<number>;
  /** After a failed send: not retried before then. */
  next_attempt_at: string | null;
  last_error: string | null;
  /** The worker mailing it (host:pid:instance), until `claimed_until`; another takes it only after. */
  claimed_by: string | null;
  claimed_until: string | null;
}

export interface SegmentsTable {
  id: Generated<number>;
  list_id: number;
  name: string;
  /** JSON of SegmentRules. */
  rules: string;
  created_at: string;
}

export interface EditionsTable {
  id: Generated<number>;
  list_id: number;
  /** ISO week in the list's time zone, e.g. 2026-W48. */
  week: string;
  /** Running number of the list's editions: "#1", "#2", … */
  number: number;
  status: EditionStatus;
  subject: string;
  preheader: string;
  editor_note: string | null;
  starts_at: string;
  ends_at: string;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
  /** Why sending stopped by itself (a run of failures) or who paused it. */
  paused_reason: string | null;
  approved_at: string | null;
  approved_by: string | null;
  /** An approved edition waits until then (null: as soon as it is approved). */
  send_at: string | null;
  /** 1 when an editor wrote the subject: every variant gets it. 0: each variant's follows its own top story. (boolean on PostgreSQL, read as 1/0) */
  subject_by_hand: Generated<number>;
  /** The same for the preheader. */
  preheader_by_hand: Generated<number>;
  /** The story that leads every variant, whatever its readers follow (null: each leads with its readers' topics). */
  pinned_article_id: Generated<number | null>;
}

export interface EditionArticlesTable {
  edition_id: number;
  article_id: number;
  /** Frozen rank: 0 is the top story. Shares one sequence with edition_items' positions. */
  position: number;
  /** The hook as this edition shows it (null: the stored article's). */
  hook: Generated<string | null>;
  /** JSON of the TL;DR as this edition shows it (null: the stored article's). */
  tldr: Generated<string | null>;
  /** What click rates multiplied its score by when the edition was made (0019); null: not weighted. */
  click_factor: Generated<number | null>;
}

/** An editor's item: a link with a title and a line, placed in the edition's order. */
export interface EditionItemsTable {
  id: Generated<number>;
  edition_id: number;
  position: number;
  title: string;
  url: string;
  line: string;
  created_at: string;
}

/** The link check of a story's URL, shown on the desk (never in the way of sending). */
export interface LinkChecksTable {
  edition_id: number;
  url: string;
  /** The HTTP status, or null when no answer came (timeout, refused, DNS). */
  status: number | null;
  error: string | null;
  checked_at: string;
}

export interface VariantsTable {
  id: Generated<number>;
  edition_id: number;
  /** Sorted, comma-joined topics the variant leads with; '' is the full edition. */
  topics_key: string;
  /** Random per render; placeholders look like %%recap-<nonce>:name%% so article text cannot forge one. */
  placeholder_nonce: string;
  html: string;
  text: string;
  html_bytes: number;
  /** JSON array of article ids shown as title and link only, to stay under the size budget. */
  compacted: string;
  /** This variant's subject and preheader: its own top story's, unless the editor wrote them. */
  subject: Generated<string>;
  preheader: Generated<string>;
  created_at: string;
}

export interface DeliveriesTable {
  id: Generated<number>;
  edition_id: number;
  subscriber_id: number;
  variant_id: number | null;
  status: DeliveryStatus;
  attempts: number;
  message_id: string | null;
  smtp_response: string | null;
  error: string | null;
  queued_at: string;
  submitted_at: string | null;
  updated_at: string;
  /** Which sender's batch claimed it. */
  claim_token: string | null;
  claimed_at: string | null;
  /** When a deferred delivery is due again. */
  next_attempt_at: string | null;
  /** Why it was deferred, failed or skipped, in the bounce taxonomy (userunknown, blocked, …). */
  reason: string | null;
  /** Not claimed before then (a wave of RECAP_LOCAL_SEND_TIME, or the rest after a subject test); null: at once. */
  not_before: Generated<string | null>;
  /** The subject it gets: an arm of the edition's subject test (0, 1, …); null: the edition's own. */
  subject_arm: Generated<number | null>;
}

export interface EventsTable {
  id: Generated<number>;
  subscriber_id: number | null;
  edition_id: number | null;
  type: string;
  /** JSON, optional details. */
  data: string | null;
  created_at: string;
}

export interface SuppressionsTable {
  id: Generated<number>;
  email_hash: string;
  reason: string;
  created_at: string;
}

/** The shared pace of every sender (0014): the next free slot. */
export interface SendPacingTable {
  name: string;
  next_slot_us: number;
}

/** Messages handed to the relay per minute (0014), for RECAP_QUOTA's rolling windows. */
export interface SendQuotaUseTable {
  /** Minutes since the epoch. */
  minute: number;
  messages: number;
}

/** A domain no sender mails until `until`, after policy rejections (0014). */
export interface DomainPausesTable {
  domain: string;
  until: string;
  reply: string;
  created_at: string;
}

export interface LeasesTable {
  /** e.g. "send:edition:7" */
  name: string;
  /** host:pid:instance:acquisition of the holder (src/delivery/lease.ts) */
  owner: string;
  expires_at: string;
  /** When this holder took it (null on rows from before 0012). */
  acquired_at: string | null;
}

export const BOUNCE_KINDS = ['hard', 'soft', 'policy', 'complaint'] as const;
export type BounceKind = (typeof BOUNCE_KINDS)[number];

export interface BouncesTable {
  id: Generated<number>;
  subscriber_id: number | null;
  edition_id: number | null;
  email_hash: string;
  kind: BounceKind;
  /** Sisimai's taxonomy: userunknown, hostunknown, mailboxfull, blocked, spamdetected, … */
  reason: string;
  /** RFC 3463 enhanced status code, when there was one. */
  status_code: string | null;
  diagnostic: string | null;
  /** smtp (a reply while sending), dsn, arf, webhook */
  source: string;
  created_at: string;
}

// missed: its slot passed more than RECAP_CATCHUP_HOURS before a daemon ran; nothing was made or sent.
export const SCHEDULE_STATES = ['awaiting-approval', 'sending', 'sent', 'skipped-thin', 'skipped-deadline', 'cancelled', 'missed'] as const;
export type ScheduleState = (typeof SCHEDULE_STATES)[number];

/** What the scheduler did for one list and week: the record that makes a week happen once. */
export interface ScheduleRunsTable {
  list_id: number;
  week: string;
  state: ScheduleState;
  detail: string | null;
  editors_told_at: string | null;
  /** When an unapproved draft goes out anyway or is skipped: RECAP_APPROVAL_DEADLINE_HOURS after the editors were told. */
  approval_deadline_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface FeedsTable {
  url: string;
  etag: string | null;
  last_modified: string | null;
  last_polled_at: string | null;
  last_status: string | null;
  last_error: string | null;
  failures: number;
}

/**
 * Clicks of one message on one story (0015): the message is known only by a random tag its links
 * carry. The empty tag holds clicks of links that carried none (0005's counts, and old links).
 */
export interface MessageClicksTable {
  edition_id: number;
  message_tag: string;
  article_id: number;
  format: Format;
  /** The arm of the subject test the message was in; null: none. */
  subject_arm: number | null;
  /** When the message was composed (carried by its tag). */
  sent_at: string;
  clicks: number;
  first_at: string;
  last_at: string;
  /** 1: the message is a link scanner's (src/delivery/clicks.ts): none of its clicks count. */
  scanner: Generated<number>;
}

/** What the click rates of recent editions did to an edition's stories when it was made (0019), per topic. */
export interface EditionTopicClicksTable {
  edition_id: number;
  topic: string;
  /** Counted clicks on the topic's stories in the recent editions. */
  clicks: number;
  /** Deliveries submitted of the recent editions the topic had stories in. */
  deliveries: number;
  /** Chances to be clicked: per such edition, its deliveries times the topic's stories in it. */
  exposures: number;
  /** clicks / exposures. */
  rate: number;
  /** What its stories' scores were multiplied by (src/editions/click-weights.ts). */
  factor: number;
}

export const SUBJECT_TEST_STATES = ['planned', 'sampling', 'waiting', 'decided'] as const;
export type SubjectTestState = (typeof SUBJECT_TEST_STATES)[number];

/** An edition's subject test (0018): src/delivery/subject-test.ts. */
export interface SubjectTestsTable {
  edition_id: number;
  /** JSON array of 2 to 4 subjects; index = arm (deliveries.subject_arm). Arm 0 goes when no other wins. */
  subjects: string;
  /** The sample as a share of the eligible audience (1–99), or as a count: exactly one is set. */
  sample_percent: number | null;
  sample_count: number | null;
  wait_minutes: number;
  /** 0.95 for 95 %. */
  confidence: number;
  state: Generated<SubjectTestState>;
  sample_size: number | null;
  sampled_at: string | null;
  /** When the wait ends (set once the sample is handed over). */
  decide_at: string | null;
  winner_arm: number | null;
  decided_at: string | null;
  /** JSON of the decision (src/editions/subject-stats.ts Decision). */
  decision: string | null;
  created_at: string;
  updated_at: string;
}

/** A fixed-window counter shared by every `recap serve` (src/web/rate-limit.ts). */
export interface RateLimitsTable {
  /** sha256 of the limit's name and what it counts (an IP, an address): no personal data kept. */
  key: string;
  window_started_at: string;
  window_ends_at: string;
  hits: number;
}

export interface Database {
  articles: ArticlesTable;
  article_topics: ArticleTopicsTable;
  lists: ListsTable;
  subscribers: SubscribersTable;
  subscriber_topics: SubscriberTopicsTable;
  subscriber_attributes: SubscriberAttributesTable;
  list_members: ListMembersTable;
  segments: SegmentsTable;
  editions: EditionsTable;
  edition_articles: EditionArticlesTable;
  edition_items: EditionItemsTable;
  link_checks: LinkChecksTable;
  variants: VariantsTable;
  deliveries: DeliveriesTable;
  events: EventsTable;
  suppressions: SuppressionsTable;
  leases: LeasesTable;
  send_pacing: SendPacingTable;
  send_quota_use: SendQuotaUseTable;
  domain_pauses: DomainPausesTable;
  bounces: BouncesTable;
  schedule_runs: ScheduleRunsTable;
  feeds: FeedsTable;
  message_clicks: MessageClicksTable;
  edition_topic_clicks: EditionTopicClicksTable;
  subject_tests: SubjectTestsTable;
  subscription_requests: SubscriptionRequestsTable;
  rate_limits: RateLimitsTable;
}

export type ArticleRow = Selectable<ArticlesTable>;
export type NewArticleRow = Insertable<ArticlesTable>;
export type SubscriberRow = Selectable<SubscribersTable>;
export type NewSubscriberRow = Insertable<SubscribersTable>;
export type SubscriberUpdate = Updateable<SubscribersTable>;
export type EditionRow = Selectable<EditionsTable>;
export type EditionItemRow = Selectable<EditionItemsTable>;
export type LinkCheckRow = Selectable<LinkChecksTable>;
export type VariantRow = Selectable<VariantsTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
export type ScheduleRunRow = Selectable<ScheduleRunsTable>;
export type SegmentRow = Selectable<SegmentsTable>;
export type ListRow = Selectable<ListsTable>;
export type SubjectTestRow = Selectable<SubjectTestsTable>;

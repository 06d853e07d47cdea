// The aggregator's article, as it arrives (camelCase JSON) and as the digest uses it. Limits keep
// one hostile or runaway article from blowing the email's size budget or a subscriber's screen.
import { z } from 'zod';

/** The limits on what an article carries; importers shorten feed text to them where that is harmless. */
export const ARTICLE_LIMITS = { title: 300, sourceName: 120, hook: 600, topics: 8, topicLength: 40, analysisLabel: 120 } as const;

const text = (max: number) => z.string().trim().max(max, `longer than ${max} characters`);
const required = (max: number) => text(max).min(1, 'is empty');
export const httpUrl = z.url({ protocol: /^https?$/, error: 'is not an http(s) URL' }).max(2000);
const instant = z.iso
  .datetime({ offset: true, error: 'is not an ISO-8601 date-time such as 2026-11-24T06:25:00Z' })
  .transform((s) => new Date(s).toISOString());

/** A topic is a lowercase slug: `compute`, `data-center`. Importers slugify what feeds carry. */
export const topicSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'is not a topic slug such as data-center')
  .max(ARTICLE_LIMITS.topicLength);

export const tldrSchema = z.object({
  whatChanged: required(1000),
  whyItMatters: required(1000),
  whatToDoNext: required(1000),
  whoShouldCare: required(300),
});

export const competitorTableSchema = z
  .object({
    columns: z.array(required(120)).min(2).max(6),
    rows: z.array(z.array(text(200))).min(1).max(12),
  })
  .refine((t) => t.rows.every((r) => r.length === t.columns.length), {
    message: 'every row must have as many cells as there are columns',
    path: ['rows'],
  });

export const articleContentSchema = z.object({
  /** How the aggregator labels its analysis ("AI-generated analysis for this event."); shown with it. */
  analysisLabel: text(ARTICLE_LIMITS.analysisLabel)
    .nullable()
    .default(null)
    .transform((label) => label || null),
  tldr: tldrSchema.nullable().default(null),
  takeaways: z.array(required(600)).max(10).default([]),
  competitors: competitorTableSchema.nullable().default(null),
  deepDive: z.array(required(800)).max(10).default([]),
  predictions: z.array(z.object({ claim: required(300), rationale: text(800).default('') })).max(6).default([]),
  timeline: z.array(z.object({ date: required(20), event: required(300) })).max(12).default([]),
});

export const articleSchema = z
  .object({
    title: required(ARTICLE_LIMITS.title),
    url: httpUrl,
    source: z.object({ name: required(ARTICLE_LIMITS.sourceName), url: httpUrl.nullable().optional() }),
    publishedAt: instant.nullable().optional(),
    collectedAt: instant,
    topics: z
      .array(topicSchema)
      .max(ARTICLE_LIMITS.topics)
      .default([])
      .transform((ts) => [...new Set(ts)]),
    hook: text(ARTICLE_LIMITS.hook).default(''),
    score: z.number().min(0).max(100).default(50),
  })
  .extend(articleContentSchema.shape);

/** An article as the aggregator sends it (input side, before defaults). */
export type ArticleInput = z.input<typeof articleSchema>;
/** A validated article. */
export type Article = z.output<typeof articleSchema>;
export type ArticleContent = z.output<typeof articleContentSchema>;

/** A stored article with the id the database gave it. */
export type StoredArticle = Article & { id: number };

/** A story without the analysis sections (an editor's item, the brief's top story), fresh arrays each time. */
export function noAnalysis() {
  return { analysisLabel: null, takeaways: [], competitors: null, deepDive: [], predictions: [], timeline: [] };
}

/** Turns a zod error into "field: message" lines, field paths written as in the input. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
      .join('');
    return `${path || '(record)'}: ${issue.message}`;
  });
}

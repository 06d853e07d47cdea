// Articles for tests: the shipped sample week, and a builder for edge cases.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArticleInput } from '../../src/articles/article.ts';

export const SAMPLE_DIR = join(import.meta.dirname, '../../data/sample');

export function sampleArticles(): ArticleInput[] {
  return JSON.parse(readFileSync(join(SAMPLE_DIR, 'articles.json'), 'utf8')) as ArticleInput[];
}

let counter = 0;
export function article(overrides: Partial<ArticleInput> = {}): ArticleInput {
  counter++;
  return {
    title: `Story ${counter}`,
    url: `https://news.example.com/story-${counter}`,
    source: { name: 'Example News', url: 'https://news.example.com' },
    collectedAt: '2026-11-25T12:00:00Z',
    topics: ['compute'],
    hook: `Hook of story ${counter}.`,
    tldr: { whatChanged: 'Something changed.', whyItMatters: 'It matters.', whatToDoNext: 'Do this.', whoShouldCare: 'Everyone' },
    takeaways: ['One takeaway.'],
    competitors: null,
    deepDive: ['Point: explanation.'],
    predictions: [{ claim: 'A claim.', rationale: 'A reason.' }],
    timeline: [{ date: '2026-11', event: 'It happened.' }],
    score: 50,
    ...overrides,
  };
}

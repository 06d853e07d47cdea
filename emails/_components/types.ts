// What a template is given: content only, already chosen and ordered. Templates hold no data.
import type { ArticleContent } from '../../src/articles/article.ts';

export interface StoryView extends ArticleContent {
  /** id of the story's heading: where a story link that can lead nowhere else points. */
  anchor: string;
  title: string;
  url: string;
  sourceName: string;
  hook: string;
  topics: string[];
  /** Shrunk to title and link to keep the email under the size budget. */
  compact: boolean;
  /** A publisher's article, which ends with the rights line; an editor's item is the editors' own. */
  fromPublisher: boolean;
}

export interface SectionView {
  topic: string;
  label: string;
  stories: StoryView[];
}

export interface DigestLinks {
  viewInBrowser: string;
  preferences: string;
  unsubscribe: string;
}

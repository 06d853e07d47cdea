// Realistic props for the React Email preview and `email export`: the shipped sample week.
import sample from '../../data/sample/articles.json' with { type: 'json' };
import { type ArticleInput, articleSchema } from '../../src/articles/article.ts';
import { arrangeVariant } from '../../src/render/arrange.ts';
import { toSectionView, toStoryView } from '../../src/render/story-view.ts';
import { rankArticles } from '../../src/editions/select.ts';

const ranked = rankArticles(
  (sample as ArticleInput[]).map((input, i) => ({ ...articleSchema.parse(input), id: i + 1 })),
);
const arrangement = arrangeVariant(ranked, []);

export const previewDigest = {
  listName: 'Weekly AI Recap',
  editionNumber: 48,
  dateRange: '23–29 Nov 2026',
  preheader: arrangement.lead.hook,
  greetingName: 'Ada',
  editorNote: 'A week where infrastructure beat models again. The top story explains why.',
  leadTopics: [],
  topStory: toStoryView(arrangement.lead),
  sections: arrangement.sections.map((s) => toSectionView(s.topic, s.stories.map((a) => toStoryView(a)))),
  links: {
    viewInBrowser: 'https://recap.example.com/archive/2026-W48',
    preferences: 'https://recap.example.com/preferences/preview',
    unsubscribe: 'https://recap.example.com/unsubscribe/preview',
  },
  recipientEmail: 'ada@example.com',
  postalAddress: 'Recap Media, Example Street 1, 10115 Berlin, Germany',
};

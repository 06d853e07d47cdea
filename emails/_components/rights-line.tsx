import { Link, Text } from '@react-email/components';
import { s } from './theme.ts';
import type { StoryView } from './types.ts';

/** The aggregator's terms: the publisher holds the rights to every story, and the story names it with a link. */
export const RIGHTS_NOTICE = 'All content rights belong to original publishers.';

/** Ends every story of a publisher's, full or compact. */
export function RightsLine({ story }: { story: StoryView }) {
  if (!story.fromPublisher) return null;
  return (
    <Text className="dark-muted" style={s.small}>
      {RIGHTS_NOTICE} Original source:{' '}
      <Link href={story.url} className="dark-link" style={s.link}>{story.sourceName}</Link>
    </Text>
  );
}

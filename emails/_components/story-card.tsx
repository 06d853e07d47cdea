import { Heading, Link, Text } from '@react-email/components';
import { Block } from './block.tsx';
import { RightsLine } from './rights-line.tsx';
import { colors, s } from './theme.ts';
import type { StoryView } from './types.ts';

/** A story below the top one: hook, what changed and why it matters; or title and link when compact. */
export function StoryCard({ story }: { story: StoryView }) {
  if (story.compact) {
    return (
      <>
        <Text id={story.anchor} className="dark-text" style={{ ...s.text, margin: '0 0 2px' }}>
          <Link href={story.url} className="dark-link" style={s.link}>{story.title}</Link>
          <span className="dark-muted" style={{ color: colors.muted, fontSize: '14px' }}> · {story.sourceName}</span>
        </Text>
        <RightsLine story={story} />
      </>
    );
  }
  const heading = (
    <Heading as="h3" id={story.anchor} className="dark-text" style={{ ...s.h4, marginTop: 0 }}>
      <Link href={story.url} className="dark-text" style={{ color: colors.text, textDecoration: 'none' }}>{story.title}</Link>
    </Heading>
  );
  return (
    <Block style={{ paddingBottom: '18px' }}>
      {heading}
      {story.hook ? <Text className="dark-text" style={s.text}>{story.hook}</Text> : null}
      {story.tldr ? (
        <Text className="dark-text" style={{ ...s.text, fontSize: '15px' }}>
          <strong>What changed:</strong> {story.tldr.whatChanged}
          <br />
          <strong>Why it matters:</strong> {story.tldr.whyItMatters}
        </Text>
      ) : null}
      <Text style={s.muted}>
        <Link href={story.url} className="dark-link" style={s.link}>Read original on {story.sourceName} →</Link>
      </Text>
      <RightsLine story={story} />
    </Block>
  );
}

import { Heading, Link, Text } from '@react-email/components';
import type { CSSProperties, ReactNode } from 'react';
import { Block } from './block.tsx';
import { CompetitorTable } from './competitor-table.tsx';
import { Bullets, LabelledPoint } from './labelled.tsx';
import { RightsLine } from './rights-line.tsx';
import { colors, s } from './theme.ts';
import type { StoryView } from './types.ts';

/** The week's top story in full, in the aggregator's own visual language. */
export function TopStory({ story }: { story: StoryView }) {
  return (
    <Block className="pad" style={s.pad}>
      <Text className="dark-muted" style={{ ...s.small, textTransform: 'uppercase', letterSpacing: '0.06em', fontWeight: 700 }}>
        Top story
      </Text>
      <Heading as="h2" id={story.anchor} className="dark-text" style={s.h2}>
        <Link href={story.url} className="dark-text" style={{ color: colors.text, textDecoration: 'none' }}>
          {story.title}
        </Link>
      </Heading>
      <Text className="dark-muted" style={s.muted}>
        {story.sourceName}
        {story.topics.length > 0 ? ` · ${story.topics.map((t) => `#${t}`).join(' ')}` : ''}
      </Text>
      {story.hook ? (
        <Text className="dark-text" style={s.text}>
          <span aria-hidden="true">💡 </span>
          {story.hook}
        </Text>
      ) : null}

      {story.tldr ? (
        <Block className="dark-tint" spacing="8px 0 4px" style={{ backgroundColor: colors.tint, borderLeft: `4px solid ${colors.accent}`, padding: '12px 16px' }}>
          <PartHeading emoji="⚡" style={{ ...s.h3, marginTop: 0 }}>30-second TL;DR</PartHeading>
          {tldrParts(story.tldr).map(([label, value], i, parts) => (
            <Tldr key={label} label={label} value={value} last={i === parts.length - 1} />
          ))}
        </Block>
      ) : null}

      {story.analysisLabel ? (
        <Text className="dark-muted" style={{ ...s.small, marginTop: '16px' }}>
          <span aria-hidden="true">🧠 </span>
          {story.analysisLabel}
        </Text>
      ) : null}

      {story.takeaways.length > 0 ? (
        <>
          <PartHeading emoji="🔑">Key takeaways</PartHeading>
          <Bullets items={story.takeaways} />
        </>
      ) : null}

      {story.competitors ? (
        <>
          <PartHeading emoji="📊">Competitor analysis</PartHeading>
          <CompetitorTable table={story.competitors} />
        </>
      ) : null}

      {story.deepDive.length > 0 ? (
        <>
          <PartHeading emoji="🛠️">Technical deep dive</PartHeading>
          <Bullets items={story.deepDive} render={(p) => <LabelledPoint point={p} />} />
        </>
      ) : null}

      {story.predictions.length > 0 ? (
        <>
          <PartHeading emoji="🔮">Future implications</PartHeading>
          {story.predictions.map((p, i) => (
            <Text key={i} className="dark-text" style={s.text}>
              <strong>{p.claim}</strong>
              {p.rationale ? (
                <>
                  <br />
                  <span className="dark-muted" style={{ color: colors.muted }}>{p.rationale}</span>
                </>
              ) : null}
            </Text>
          ))}
        </>
      ) : null}

      {story.timeline.length > 0 ? (
        <>
          <PartHeading emoji="🗓️">Timeline</PartHeading>
          <table role="presentation" width="100%" cellPadding={0} cellSpacing={0} style={{ margin: '0 0 12px' }}>
            <tbody>
              {story.timeline.map((t, i) => (
                <tr key={i}>
                  <td className="dark-muted" style={{ ...s.small, width: '88px', verticalAlign: 'top', padding: '0 8px 6px 0', fontWeight: 700 }}>{t.date}</td>
                  <td className="dark-text" style={{ ...s.small, color: colors.text, verticalAlign: 'top', padding: '0 0 6px' }}>{t.event}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}

      <Text style={s.text}>
        <Link href={story.url} className="dark-link" style={{ ...s.link, fontWeight: 700 }}>
          Read original on {story.sourceName} →
        </Link>
      </Text>
      <RightsLine story={story} />
    </Block>
  );
}

/** A part of the top story; its emoji is decoration, so screen readers hear only the words. */
function PartHeading({ emoji, children, style = s.h3 }: { emoji: string; children: ReactNode; style?: CSSProperties }) {
  return (
    <Heading as="h3" className="dark-text" style={style}>
      <span aria-hidden="true">{emoji} </span>
      {children}
    </Heading>
  );
}

/** The TL;DR's parts that have words. */
function tldrParts(tldr: NonNullable<StoryView['tldr']>): Array<[string, string]> {
  const parts: Array<[string, string]> = [
    ['What changed', tldr.whatChanged],
    ['Why it matters', tldr.whyItMatters],
    ['What to do next', tldr.whatToDoNext],
    ['Who should care', tldr.whoShouldCare],
  ];
  return parts.filter(([, value]) => value !== '');
}

function Tldr({ label, value, last = false }: { label: string; value: string; last?: boolean }) {
  return (
    <Text className="dark-text" style={{ ...s.text, fontSize: '15px', margin: last ? 0 : '0 0 8px' }}>
      <strong>{label}:</strong> {value}
    </Text>
  );
}

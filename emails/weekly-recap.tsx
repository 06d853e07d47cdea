// The weekly digest. Content arrives through props (see src/render/variant.ts); every prop has a
// default so `email export` and the React Email preview render it as a realistic edition.
import { Heading, Hr, Text } from '@react-email/components';
import { type AnchorHTMLAttributes, createElement, Fragment } from 'react';
import { Block } from './_components/block.tsx';
import { Brief } from './_components/brief.tsx';
import { Frame } from './_components/frame.tsx';
import { Footer } from './_components/footer.tsx';
import { previewDigest } from './_components/preview-data.ts';
import { StoryCard } from './_components/story-card.tsx';
import { SubscribeCall } from './_components/subscribe-call.tsx';
import { colors, s } from './_components/theme.ts';
import { TopStory } from './_components/top-story.tsx';
import type { DigestLinks, SectionView, StoryView } from './_components/types.ts';

export interface WeeklyRecapProps {
  listName?: string;
  editionNumber?: number;
  /** "23–29 Nov 2026" */
  dateRange?: string;
  /** The line inbox lists show after the subject. */
  preheader?: string;
  /** The reader's first name, or "there" (src/audience/first-name.ts). */
  greetingName?: string;
  editorNote?: string | null;
  /** Labels of the topics this variant leads with; empty for the full edition. */
  leadTopics?: string[];
  topStory?: StoryView;
  sections?: SectionView[];
  links?: DigestLinks;
  recipientEmail?: string;
  postalAddress?: string;
  /** The archive's web version: no greeting, and a footer that invites to subscribe. */
  webVersion?: boolean;
  /**
   * The brief format (src/render/variant.ts shapes its stories): each story a headline, its hook and
   * one TL;DR line, no contents, and a link to the full edition in the browser; its own lean markup
   * (_components/brief.tsx).
   */
  brief?: boolean;
  /** Stories of the brief left out to keep it small: the link to the full edition counts them. */
  omitted?: number;
}

export function WeeklyRecap(props: WeeklyRecapProps) {
  const {
    listName, editionNumber, dateRange, preheader, greetingName, editorNote, leadTopics, topStory, sections,
    links, recipientEmail, postalAddress, webVersion, brief, omitted,
  } = { ...previewDigest, webVersion: false, brief: false, omitted: 0, ...props } as Required<WeeklyRecapProps>;
  if (brief) {
    return (
      <Brief
        listName={listName} editionNumber={editionNumber} dateRange={dateRange} preheader={preheader} greetingName={greetingName} editorNote={editorNote}
        leadTopics={leadTopics} topStory={topStory} sections={sections} links={links} recipientEmail={recipientEmail} postalAddress={postalAddress} omitted={omitted}
      />
    );
  }
  const storyCount = 1 + omitted + sections.reduce((n, section) => n + section.stories.length, 0);
  return (
    <Frame title={`${listName} #${editionNumber}`} preview={preheader}>
      {/* Kept short so that the top story starts on a phone's first screen. */}
      <Block className="pad" style={{ ...s.pad, paddingTop: '28px' }}>
        <Text className="dark-muted" style={{ ...s.small, fontWeight: 700, color: colors.accent }}>
          #{editionNumber} · {dateRange}
        </Text>
        <Heading as="h1" className="dark-text" style={s.h1}>{listName}</Heading>
        {webVersion ? <SubscribeCall listName={listName} href={links.preferences} /> : null}
        <Text className="dark-text" style={{ ...s.text, marginTop: '12px' }}>
          {webVersion ? 'Here' : `Hi ${greetingName}, here`} {storyCount === 1 ? 'is the story' : `are the ${storyCount} stories`} that
          mattered in AI this week{leadTopics.length > 0 ? `, leading with what you follow: ${leadTopics.join(', ')}` : ''}.
        </Text>
        {storyCount > CONTENTS_ABOVE && sections.length > 1 ? <Contents sections={sections} /> : null}
        <Hr className="dark-rule" style={{ ...s.rule, margin: '16px 0' }} />
      </Block>

      <TopStory story={topStory} />

      {editorNote ? (
        <Block className="pad" style={s.pad}>
          <Block className="dark-tint" spacing="8px 0" style={{ backgroundColor: colors.tint, padding: '12px 16px' }}>
            <Text className="dark-muted" style={{ ...s.small, fontWeight: 700 }}>From the editor</Text>
            {editorNote.split(/\n{2,}/).map((paragraph, i) => (
              <Text key={i} className="dark-text" style={{ ...s.text, margin: '0 0 8px' }}>{paragraph}</Text>
            ))}
          </Block>
        </Block>
      ) : null}

      {sections.map((section, i) => (
        <Block key={section.topic} className="pad" style={s.pad}>
          <Hr className="dark-rule" style={s.rule} />
          <Anchor name={sectionAnchor(i)} />
          <Heading as="h2" className="dark-text" style={{ ...s.h3, marginTop: 0 }}>{section.label}</Heading>
          {section.stories.map((story) => (
            <StoryCard key={story.anchor} story={story} />
          ))}
        </Block>
      ))}

      <Footer listName={listName} links={links} recipientEmail={recipientEmail} postalAddress={postalAddress} webVersion={webVersion} />
    </Frame>
  );
}

/** Up to this many stories the email is short enough to scroll: no contents. */
const CONTENTS_ABOVE = 3;

/** Gmail's web client and Outlook for Windows follow `#x` only to <a name="x">, the others to id="x"; the anchor has both. */
function sectionAnchor(index: number): string {
  return `section-${index + 1}`;
}

/** React's types lack <a name> (obsolete in HTML, still what those two clients read). */
function Anchor({ name }: { name: string }) {
  return createElement('a', { id: name, name } as AnchorHTMLAttributes<HTMLAnchorElement>);
}

/**
 * One line of topic sections, each with its number of stories: it tells what is in the issue even in
 * the clients where in-page links do nothing. Same-page links: no target, so nothing opens a tab.
 */
function Contents({ sections }: { sections: SectionView[] }) {
  return (
    <Text className="dark-text" style={{ ...s.muted, color: colors.text }}>
      <strong>In this issue:</strong>{' '}
      {sections.map((section, i) => (
        <Fragment key={section.topic}>
          {i > 0 ? ' · ' : ''}
          <a href={`#${sectionAnchor(i)}`} className="dark-link" style={s.link}>{section.label}</a>{`\u00a0(${section.stories.length})`}
        </Fragment>
      ))}
    </Text>
  );
}

WeeklyRecap.PreviewProps = previewDigest satisfies WeeklyRecapProps;

export default WeeklyRecap;

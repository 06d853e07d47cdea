// The weekly digest. Content arrives through props (see src/render/variant.ts); every prop has a
// default so `email export` and the React Email preview render it as a realistic edition.
import { Heading, Hr, Link, Section, Text } from '@react-email/components';
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
}

export function WeeklyRecap(props: WeeklyRecapProps) {
  const {
    listName, editionNumber, dateRange, preheader, greetingName, editorNote, leadTopics, topStory, sections,
    links, recipientEmail, postalAddress, webVersion,
  } = { ...previewDigest, webVersion: false, ...props } as Required<WeeklyRecapProps>;
  const storyCount = 1 + sections.reduce((n, section) => n + section.stories.length, 0);
  return (
    <Frame title={`${listName} #${editionNumber}`} preview={preheader}>
      <Section className="pad" style={{ ...s.pad, paddingTop: '28px' }}>
        <Text className="dark-muted" style={{ ...s.small, fontWeight: 700, color: colors.accent }}>
          #{editionNumber} · {dateRange}
        </Text>
        <Heading as="h1" className="dark-text" style={s.h1}>{listName}</Heading>
        {webVersion ? <SubscribeCall listName={listName} href={links.preferences} /> : null}
        <Text className="dark-text" style={{ ...s.text, marginTop: '12px' }}>
          {webVersion ? 'Here' : `Hi ${greetingName}, here`} {storyCount === 1 ? 'is the story' : `are the ${storyCount} stories`} that
          mattered in AI this week{leadTopics.length > 0 ? `, leading with what you follow: ${leadTopics.join(', ')}` : ''}.
        </Text>
        {editorNote ? (
          <Section className="dark-tint" style={{ backgroundColor: colors.tint, padding: '12px 16px', margin: '4px 0 8px' }}>
            <Text className="dark-muted" style={{ ...s.small, fontWeight: 700 }}>From the editor</Text>
            {editorNote.split(/\n{2,}/).map((paragraph, i) => (
              <Text key={i} className="dark-text" style={{ ...s.text, margin: '0 0 8px' }}>{paragraph}</Text>
            ))}
          </Section>
        ) : null}
        {storyCount > 3 ? (
          <>
            <Heading as="h2" className="dark-text" style={{ ...s.h4, marginTop: '16px' }}>In this issue</Heading>
            <ol className="dark-text" style={{ ...s.list, fontSize: '15px' }}>
              {[topStory, ...sections.flatMap((section) => section.stories)].map((story) => (
                <li key={story.anchor} style={{ margin: '0 0 4px' }}>
                  <Link href={`#${story.anchor}`} className="dark-link" style={s.link}>{story.title}</Link>
                </li>
              ))}
            </ol>
          </>
        ) : null}
        <Hr className="dark-rule" style={s.rule} />
      </Section>

      <TopStory story={topStory} />

      {sections.map((section) => (
        <Section key={section.topic} className="pad" style={s.pad}>
          <Hr className="dark-rule" style={s.rule} />
          <Heading as="h2" className="dark-text" style={{ ...s.h3, marginTop: 0 }}>{section.label}</Heading>
          {section.stories.map((story) => (
            <StoryCard key={story.anchor} story={story} />
          ))}
        </Section>
      ))}

      <Footer listName={listName} links={links} recipientEmail={recipientEmail} postalAddress={postalAddress} webVersion={webVersion} />
    </Frame>
  );
}

WeeklyRecap.PreviewProps = previewDigest satisfies WeeklyRecapProps;

export default WeeklyRecap;

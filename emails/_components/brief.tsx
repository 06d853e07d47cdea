// The brief (src/render/variant.ts shapes its stories): the header, the top story a little longer,
// the editor's note, every other story as its linked headline, hook, one TL;DR line and linked
// source, a link to the full edition, the footer. It must stay under 15,000 bytes, so its markup is
// lean: one table, a row for each part, the text styles set once on a row's cell (paragraphs and
// headings inherit them, Outlook for Windows too; links inherit nothing, so theirs are inline, and
// their dark colours come by element from the style sheet, theme.ts briefCss), and text written as
// whole strings (JSX that splits text writes an empty comment at every split).
import type { CSSProperties, ReactNode } from 'react';
import { Frame } from './frame.tsx';
import { RIGHTS_NOTICE } from './rights-line.tsx';
import { colors } from './theme.ts';
import type { DigestLinks, SectionView, StoryView } from './types.ts';
import { fullEditionLine, introLine, receivingLine } from './wording.ts';

export interface BriefProps {
  listName: string;
  editionNumber: number;
  dateRange: string;
  preheader: string;
  greetingName: string;
  editorNote: string | null;
  leadTopics: string[];
  topStory: StoryView;
  sections: SectionView[];
  links: DigestLinks;
  recipientEmail: string;
  postalAddress: string;
  /** Stories left out to stay under the bound: the link to the full edition counts them. */
  omitted: number;
}

/** Said once, below the stories, which each end with their source (the full digest says it in every story). */
export const BRIEF_RIGHTS_NOTICE = `${RIGHTS_NOTICE} Each story links to its source.`;

const text = { color: colors.text, fontSize: '16px', lineHeight: '1.6' } satisfies CSSProperties;
const small = { color: colors.muted, fontSize: '13px', lineHeight: '1.5' } satisfies CSSProperties;

export function Brief(props: BriefProps) {
  const { listName, editionNumber, dateRange, preheader, greetingName, editorNote, leadTopics, topStory, sections, links, recipientEmail, postalAddress, omitted } = props;
  const storyCount = 1 + omitted + sections.reduce((n, section) => n + section.stories.length, 0);
  return (
    <Frame title={`${listName} #${editionNumber}`} preview={preheader} brief>
      <table role="presentation" width="100%" cellPadding={0} cellSpacing={0}>
        <tbody>
          <Row padding="28px 28px 0" style={text}>
            <p className="dark-muted" style={{ margin: '0 0 6px', fontSize: '13px', fontWeight: 700, color: colors.accent }}>{`#${editionNumber} · ${dateRange}`}</p>
            <h1 style={{ margin: '0 0 4px', fontSize: '26px', lineHeight: '1.25' }}>{listName}</h1>
            <p style={{ margin: '12px 0 0' }}>{introLine(greetingName, storyCount, leadTopics)}</p>
            <hr className="dark-rule" />
            <TopStory story={topStory} />
          </Row>
          {editorNote ? (
            <Row className="dark-tint dark-text" padding="12px 28px" style={{ ...text, backgroundColor: colors.tint }}>
              <p className="dark-muted" style={{ ...small, margin: '0 0 6px', fontWeight: 700 }}>From the editor</p>
              {editorNote.split(/\n{2,}/).map((paragraph, i) => (
                <p key={i} style={{ margin: '0 0 8px' }}>{paragraph}</p>
              ))}
            </Row>
          ) : null}
          <Row padding="12px 28px 0" style={{ ...text, fontSize: '15px', lineHeight: '1.5' }}>
            {sections.length > 0 ? <h2 className="dark-muted" style={{ ...small, margin: 0, textTransform: 'uppercase' }}>Also this week</h2> : null}
            {sections.flatMap((section) => section.stories).map((story) => (
              <Story key={story.anchor} story={story} />
            ))}
            <hr className="dark-rule" />
            <p style={{ margin: '0 0 8px' }}>
              {`${fullEditionLine(omitted)} `}
              <a href={links.viewInBrowser}>read the full edition</a>.
            </p>
            <p className="dark-muted" style={{ ...small, margin: 0 }}>{BRIEF_RIGHTS_NOTICE}</p>
            <hr className="dark-rule" />
          </Row>
          <Row className="dark-muted" padding="0 28px 28px" style={small}>
            <p style={{ margin: '0 0 6px' }}>
              <a href={links.preferences}>Manage preferences</a>
              {' · '}
              <a href={links.unsubscribe}>Unsubscribe</a>
            </p>
            <p style={{ margin: '0 0 6px' }}>{receivingLine(recipientEmail, listName)}</p>
            <p style={{ margin: 0 }}>{postalAddress}</p>
          </Row>
        </tbody>
      </table>
    </Frame>
  );
}

/** One part of the brief; `pad` narrows its sides on a phone. */
function Row({ className = 'dark-text', padding, style, children }: { className?: string; padding: string; style: CSSProperties; children: ReactNode }) {
  return (
    <tr>
      <td className={`pad ${className}`} style={{ padding, ...style }}>{children}</td>
    </tr>
  );
}

/** Headline, hook, two lines of its TL;DR and the source (src/render/story-view.ts toBriefLeadView shortens them). */
function TopStory({ story }: { story: StoryView }) {
  const parts = story.tldr ? ([['What changed', story.tldr.whatChanged], ['Why it matters', story.tldr.whyItMatters]] as const).filter(([, value]) => value !== '') : [];
  return (
    <>
      <p className="dark-muted" style={{ ...small, margin: '0 0 6px', textTransform: 'uppercase', fontWeight: 700 }}>Top story</p>
      <h2 id={story.anchor} style={{ margin: '0 0 8px', fontSize: '22px', lineHeight: '1.3' }}><Headline story={story} /></h2>
      {story.hook ? (
        <p style={{ margin: '0 0 12px' }}>
          <span aria-hidden="true">💡 </span>
          {story.hook}
        </p>
      ) : null}
      {parts.map(([label, value]) => (
        <p key={label} style={{ margin: '0 0 8px' }}>
          <strong>{`${label}:`}</strong>
          {` ${value}`}
        </p>
      ))}
      <Credit story={story} />
    </>
  );
}

/** Headline, hook and what changed, then the source; shrunk to fit, headline and source. */
function Story({ story }: { story: StoryView }) {
  const hook = story.compact ? '' : story.hook;
  const tldr = story.compact ? null : story.tldr;
  // The dash goes into the text before the link: text beside text would get an empty comment between.
  const dash = !story.fromPublisher ? '' : hook || tldr ? ' — ' : '— ';
  return (
    <>
      <h3 id={story.anchor}><Headline story={story} /></h3>
      {hook || tldr || dash ? (
        <p>
          {tldr ? (
            <>
              {hook ? `${hook} ` : null}
              <strong>TL;DR:</strong>
              {` ${tldr.whatChanged}${dash}`}
            </>
          ) : `${hook}${dash}`}
          <SourceLink story={story} />
        </p>
      ) : null}
    </>
  );
}

function Headline({ story }: { story: StoryView }) {
  return <a href={story.url}>{story.title}</a>;
}

/** The publisher's name, linked to the original: the credit that ends each story. An editor's item has none. */
function SourceLink({ story }: { story: StoryView }) {
  if (!story.fromPublisher) return null;
  return <a href={story.url}>{story.sourceName}</a>;
}

/** The top story's credit, on a line of its own. */
function Credit({ story }: { story: StoryView }) {
  if (!story.fromPublisher) return null;
  return (
    <p className="dark-muted" style={{ margin: '0 0 16px', fontSize: '14px', color: colors.muted }}>
      {'— '}
      <SourceLink story={story} />
    </p>
  );
}

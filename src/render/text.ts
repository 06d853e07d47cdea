// The plain-text part, written from the same props as the HTML (not HTML stripped to text):
// headings underlined, links as numbered references, lines wrapped at 76 columns.
import type { WeeklyRecapProps } from '../../emails/weekly-recap.tsx';
import { BRIEF_RIGHTS_NOTICE } from '../../emails/_components/brief.tsx';
import { RIGHTS_NOTICE } from '../../emails/_components/rights-line.tsx';
import type { StoryView } from '../../emails/_components/types.ts';
import { fullEditionLine, introLine, receivingLine } from '../../emails/_components/wording.ts';

const WIDTH = 76;
const TLDR_PARTS = [['What changed', 'whatChanged'], ['Why it matters', 'whyItMatters'], ['What to do next', 'whatToDoNext'], ['Who should care', 'whoShouldCare']] as const;

export function renderText(props: Required<WeeklyRecapProps>): string {
  const links: string[] = [];
  const ref = (url: string) => {
    const at = links.indexOf(url);
    if (at >= 0) return `[${at + 1}]`;
    links.push(url);
    return `[${links.length}]`;
  };
  const out: string[] = [];
  const para = (text: string, indent = '') => out.push(wrap(text, indent), '');
  const heading = (text: string, rule: '=' | '-') => underlined(out, text, rule);

  heading(`${props.listName.toUpperCase()} #${props.editionNumber} · ${props.dateRange}`, '=');
  const count = 1 + props.omitted + props.sections.reduce((n, s) => n + s.stories.length, 0);
  para(introLine(props.greetingName, count, props.leadTopics));

  if (props.editorNote) {
    heading('From the editor', '-');
    for (const p of props.editorNote.split(/\n{2,}/)) para(p);
  }

  const story = props.topStory;
  heading(`TOP STORY: ${story.title}`, '=');
  if (props.brief) {
    writeBrief(props, out, ref);
    return footer(props, links, out);
  }
  para(`${story.sourceName}${story.topics.length ? ` · ${story.topics.map((t) => `#${t}`).join(' ')}` : ''}`);
  if (story.hook) para(story.hook);
  if (story.tldr) {
    heading('30-second TL;DR', '-');
    // A brief that had to shrink keeps only what changed.
    for (const [label, value] of TLDR_PARTS) if (story.tldr[value]) para(`${label}: ${story.tldr[value]}`);
  }
  if (story.analysisLabel) para(story.analysisLabel);
  if (story.takeaways.length) {
    heading('Key takeaways', '-');
    for (const t of story.takeaways) out.push(wrap(`* ${t}`, '  '));
    out.push('');
  }
  if (story.competitors) {
    heading('Competitor analysis', '-');
    const [rowHeader, ...columns] = story.competitors.columns;
    for (const row of story.competitors.rows) {
      out.push(wrap(`* ${rowHeader ? `${rowHeader}: ` : ''}${row[0] ?? ''}`, '  '));
      columns.forEach((column, i) => out.push(wrap(`    ${column}: ${row[i + 1] ?? ''}`, '      ')));
    }
    out.push('');
  }
  if (story.deepDive.length) {
    heading('Technical deep dive', '-');
    for (const d of story.deepDive) out.push(wrap(`* ${d}`, '  '));
    out.push('');
  }
  if (story.predictions.length) {
    heading('Future implications', '-');
    for (const p of story.predictions) {
      out.push(wrap(`* ${p.claim}`, '  '));
      if (p.rationale) out.push(wrap(`  ${p.rationale}`, '  '));
    }
    out.push('');
  }
  if (story.timeline.length) {
    heading('Timeline', '-');
    writeTimeline(story.timeline, out);
    out.push('');
  }
  para(`Read original on ${story.sourceName} ${ref(story.url)}`);
  if (story.fromPublisher) para(rightsLine(story, ref));

  for (const section of props.sections) {
    heading(section.label.toUpperCase(), '=');
    for (const s of section.stories) writeCard(s, out, ref);
  }
  return footer(props, links, out);
}

/** As the brief's HTML (emails/_components/brief.tsx), after the top story's title. */
function writeBrief(props: Required<WeeklyRecapProps>, out: string[], ref: (url: string) => string): void {
  const para = (text: string) => out.push(wrap(text), '');
  const story = props.topStory;
  if (story.hook) para(story.hook);
  for (const [label, value] of TLDR_PARTS) if (story.tldr?.[value]) para(`${label}: ${story.tldr[value]}`);
  if (story.fromPublisher) para(credit(story, ref));
  const stories = props.sections.flatMap((section) => section.stories);
  if (stories.length > 0) underlined(out, 'ALSO THIS WEEK', '=');
  for (const s of stories) {
    const title = wrap(s.title);
    out.push(title, '-'.repeat(Math.max(...title.split('\n').map(displayWidth))));
    const said = s.compact ? [] : [s.hook, s.tldr ? `TL;DR: ${s.tldr.whatChanged}` : ''].filter(Boolean);
    out.push(...said.map((line) => wrap(line)), ...(s.fromPublisher ? [credit(s, ref)] : []), '');
  }
  para(`${fullEditionLine(props.omitted)} read the full edition ${ref(props.links.viewInBrowser)}`);
  para(BRIEF_RIGHTS_NOTICE);
}

function underlined(out: string[], text: string, rule: '=' | '-'): void {
  const lines = wrap(text);
  out.push(lines, rule.repeat(Math.max(...lines.split('\n').map(displayWidth))), '');
}

/** The brief's credit: the publisher's name, with the reference to the original. */
function credit(story: StoryView, ref: (url: string) => string): string {
  return `— ${story.sourceName} ${ref(story.url)}`;
}

function footer(props: Required<WeeklyRecapProps>, links: string[], out: string[]): string {
  const para = (text: string) => out.push(wrap(text), '');
  underlined(out, 'Links', '-');
  links.forEach((url, i) => out.push(`[${i + 1}] ${url}`));
  out.push('');
  out.push('-- ');
  out.push(`View in browser: ${props.links.viewInBrowser}`);
  out.push(`Manage preferences: ${props.links.preferences}`);
  out.push(`Unsubscribe: ${props.links.unsubscribe}`);
  out.push('');
  para(receivingLine(props.recipientEmail, props.listName));
  para(props.postalAddress);
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** As the HTML's StoryCard. */
function writeCard(story: StoryView, out: string[], ref: (url: string) => string): void {
  if (story.compact) {
    out.push(wrap(`* ${story.title} (${story.sourceName}) ${ref(story.url)}`, '  '), ...(story.fromPublisher ? [wrap(`  ${rightsLine(story, ref)}`, '  ')] : []), '');
    return;
  }
  const title = wrap(story.title);
  out.push(title, '-'.repeat(Math.max(...title.split('\n').map(displayWidth))));
  if (story.hook) out.push(wrap(story.hook));
  if (story.tldr) {
    out.push(wrap(`What changed: ${story.tldr.whatChanged}`));
    out.push(wrap(`Why it matters: ${story.tldr.whyItMatters}`));
  }
  out.push(`Read original on ${story.sourceName} ${ref(story.url)}`, ...(story.fromPublisher ? [wrap(rightsLine(story, ref))] : []), '');
}

/** As the HTML's RightsLine: the publisher holds the rights, and the story links to it. */
function rightsLine(story: StoryView, ref: (url: string) => string): string {
  return `${RIGHTS_NOTICE} Original source: ${story.sourceName} ${ref(story.url)}`;
}

/** Longest date kept in the date column; a longer one takes a line of its own above its event. */
const DATE_COLUMN_MAX = 20;

/** Dates in one column as wide as the longest, every event starting (and wrapping) at the same place. */
function writeTimeline(timeline: StoryView['timeline'], out: string[]): void {
  const column = Math.min(DATE_COLUMN_MAX, Math.max(...timeline.map((t) => displayWidth(t.date))));
  const indent = ' '.repeat(column + 1);
  for (const t of timeline) {
    // wrap() joins words with single spaces, so the column's padding is added around it.
    const [first = '', ...rest] = wrap(t.event, '', WIDTH - indent.length).split('\n');
    const width = displayWidth(t.date);
    if (width > column) out.push(wrap(t.date), indent + first);
    else out.push(`${t.date}${' '.repeat(column - width)} ${first}`);
    for (const line of rest) out.push(indent + line);
  }
}

/** Wide (CJK, emoji) characters take two columns in a terminal or a monospace mail reader. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}]/u.test(ch) ? 2 : 1;
  return width;
}

/** Greedy word wrap; a word longer than the line (a URL) stays whole on its own line. */
export function wrap(text: string, indent = '', width = WIDTH): string {
  const lead = /^\s*/.exec(text)?.[0] ?? '';
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line === '') line = (lines.length > 0 ? indent : lead) + word;
    else if (displayWidth(line) + 1 + displayWidth(word) > width) {
      lines.push(line);
      line = indent + word;
    } else line += ` ${word}`;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

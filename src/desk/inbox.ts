// How a subject and preheader look in an inbox list before the email is opened. Pure. The widths
// are the usual guidance (Litmus, Campaign Monitor): a phone in portrait shows about 35 characters
// of the subject and 90 of the preheader; a desktop list about 70 of the subject, and the
// preheader fills the rest of its line, about 110 characters for the two together.
export const SHOWN = { phoneSubject: 35, phonePreheader: 90, desktopSubject: 70, desktopLine: 110 } as const;

/** Counted as readers see them: an emoji or an accented letter is one. */
function graphemes(text: string): string[] {
  return [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].map((s) => s.segment);
}

/** The first `max` characters, with an ellipsis when cut. */
export function truncated(text: string, max: number): string {
  const chars = graphemes(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('').trimEnd()}…`;
}

export interface InboxView {
  subjectLength: number;
  preheaderLength: number;
  phone: { subject: string; preheader: string };
  desktop: { subject: string; preheader: string };
  /** Plain advice, empty when all is well. */
  advice: string[];
}

export function inboxView(subject: string, preheader: string): InboxView {
  const subjectLength = graphemes(subject).length;
  const preheaderLength = graphemes(preheader).length;
  const desktopSubject = truncated(subject, SHOWN.desktopSubject);
  const rest = Math.max(0, SHOWN.desktopLine - Math.min(subjectLength, SHOWN.desktopSubject));
  const advice: string[] = [];
  if (subjectLength > SHOWN.phoneSubject) advice.push(`A phone shows the first ${SHOWN.phoneSubject} of its ${subjectLength} characters: put what matters first.`);
  if (subjectLength > SHOWN.desktopSubject) advice.push(`Longer than a desktop inbox shows (${SHOWN.desktopSubject}).`);
  if (preheaderLength === 0) advice.push('No preheader: inboxes then show the first text of the email instead.');
  if (preheader && subject && preheader.toLowerCase().startsWith(subject.toLowerCase())) advice.push('The preheader repeats the subject: let it add something.');
  return {
    subjectLength,
    preheaderLength,
    phone: { subject: truncated(subject, SHOWN.phoneSubject), preheader: truncated(preheader, SHOWN.phonePreheader) },
    desktop: { subject: desktopSubject, preheader: truncated(preheader, rest) },
    advice,
  };
}

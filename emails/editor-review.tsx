// To the editors when a week's edition waits for approval (or when a thin week has none).
import { Link, Text } from '@react-email/components';
import { ActionButton } from './_components/action-button.tsx';
import { SimpleEmail } from './_components/simple-email.tsx';
import { s } from './_components/theme.ts';

export interface EditorReviewProps {
  listName?: string;
  week?: string;
  subject?: string;
  /** Story titles in the edition's order; empty when the week has no edition. */
  stories?: string[];
  deskUrl?: string;
  /** What happens at the deadline, e.g. "Monday 30 Nov, 14:00: it goes out anyway". */
  deadline?: string | null;
  /** Why there is no edition (a thin week). */
  skippedBecause?: string | null;
  postalAddress?: string;
}

/** Realistic values: the defaults (so `email export` renders it) and the preview's props. */
const preview = {
  listName: 'Weekly AI Recap',
  week: '2026-W48',
  subject: 'Weekly AI Recap #48: Nvidia Beats Again as Rubin Ramp Begins',
  stories: ['Nvidia Beats Again as Rubin Ramp Begins', 'US Tightens Export Rules on Remote Cloud Access'],
  deskUrl: 'https://recap.example.com/desk/editions/2026-W48',
  deadline: 'Mon 30 Nov 2026, 14:00 UTC: it goes out anyway',
  skippedBecause: null,
  postalAddress: 'Recap Media, Example Street 1, 10115 Berlin, Germany',
} satisfies Required<EditorReviewProps>;

export function EditorReview(props: EditorReviewProps) {
  const { listName, week, subject, stories, deskUrl, deadline, skippedBecause, postalAddress } = { ...preview, ...props };
  if (skippedBecause) {
    return (
      <SimpleEmail title={`No ${listName} for ${week}`} preview={skippedBecause} footer={postalAddress}>
        <Text className="dark-text" style={s.text}>Nothing was sent this week: {skippedBecause}.</Text>
        <Text className="dark-text" style={s.text}>
          <Link href={deskUrl} className="dark-link" style={s.link}>Open the desk</Link>
        </Text>
      </SimpleEmail>
    );
  }
  return (
    <SimpleEmail title={`${listName} ${week} is ready for review`} preview={subject} footer={postalAddress}>
      <Text className="dark-text" style={s.text}><strong>{subject}</strong></Text>
      <ol className="dark-text" style={s.list}>
        {stories.map((t, i) => (
          <li key={i}>{t}</li>
        ))}
      </ol>
      <ActionButton href={deskUrl}>Review and approve</ActionButton>
      {deadline ? <Text className="dark-muted" style={{ ...s.small, marginTop: '16px' }}>Deadline: {deadline}.</Text> : null}
    </SimpleEmail>
  );
}

EditorReview.PreviewProps = preview;

export default EditorReview;

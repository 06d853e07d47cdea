// Optional (RECAP_WELCOME_EMAIL): sent once a subscriber confirms.
import { Link, Text } from '@react-email/components';
import { SimpleEmail } from './_components/simple-email.tsx';
import { s } from './_components/theme.ts';

export interface WelcomeProps {
  listName?: string;
  name?: string | null;
  archiveUrl?: string;
  preferencesUrl?: string;
  postalAddress?: string;
}

/** Realistic values: the defaults (so `email export` renders it) and the preview's props. */
const preview = {
  listName: 'Weekly AI Recap',
  name: 'Ada',
  archiveUrl: 'https://recap.example.com/archive',
  preferencesUrl: 'https://recap.example.com/preferences/preview',
  postalAddress: 'Recap Media, Example Street 1, 10115 Berlin, Germany',
} satisfies Required<WelcomeProps>;

export function Welcome(props: WelcomeProps) {
  const { listName, name, archiveUrl, preferencesUrl, postalAddress } = { ...preview, ...props };
  return (
    <SimpleEmail title={`Welcome to ${listName}`} preview="You are subscribed. The next edition arrives on Monday." footer={postalAddress}>
      <Text className="dark-text" style={s.text}>
        Hi {name || 'there'}, you are subscribed. Every Monday you will get the week's most important AI stories, with a
        30-second TL;DR for each.
      </Text>
      <Text className="dark-text" style={s.text}>
        Catch up in the <Link href={archiveUrl} className="dark-link" style={s.link}>archive</Link>, or choose your topics on
        your <Link href={preferencesUrl} className="dark-link" style={s.link}>preferences page</Link>.
      </Text>
    </SimpleEmail>
  );
}

Welcome.PreviewProps = preview;

export default Welcome;

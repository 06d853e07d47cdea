// Sent when someone asks to subscribe: one button, and what happens if they ignore it.
import { Text } from '@react-email/components';
import { ActionButton } from './_components/action-button.tsx';
import { SimpleEmail } from './_components/simple-email.tsx';
import { s } from './_components/theme.ts';

export interface ConfirmSubscriptionProps {
  listName?: string;
  name?: string | null;
  confirmUrl?: string;
  /** Labels of the chosen topics; empty for the full edition. */
  topics?: string[];
  /** "72 hours" */
  validFor?: string;
  postalAddress?: string;
}

/** Realistic values: the defaults (so `email export` renders it) and the preview's props. */
const preview = {
  listName: 'Weekly AI Recap',
  name: 'Ada',
  confirmUrl: 'https://recap.example.com/confirm/preview',
  topics: ['Compute', 'Policy'],
  validFor: '72 hours',
  postalAddress: 'Recap Media, Example Street 1, 10115 Berlin, Germany',
} satisfies Required<ConfirmSubscriptionProps>;

export function ConfirmSubscription(props: ConfirmSubscriptionProps) {
  const { listName, name, confirmUrl, topics, validFor, postalAddress } = { ...preview, ...props };
  return (
    <SimpleEmail
      title={`Confirm your subscription to ${listName}`}
      preview={`One click to start receiving ${listName}.`}
      footer={`If you did not ask for this, ignore this email: you will not be subscribed and will hear nothing more from us. ${postalAddress}`}
    >
      <Text className="dark-text" style={s.text}>
        Hi {name || 'there'}, someone (hopefully you) asked to receive {listName} at this address
        {topics.length > 0 ? `, leading with ${topics.join(', ')}` : ''}. Please confirm that it was you.
      </Text>
      <ActionButton href={confirmUrl}>Confirm my subscription</ActionButton>
      <Text className="dark-muted" style={{ ...s.small, marginTop: '16px' }}>
        The link works for {validFor}. If the button does not work, open this address: {confirmUrl}
      </Text>
    </SimpleEmail>
  );
}

ConfirmSubscription.PreviewProps = preview;

export default ConfirmSubscription;

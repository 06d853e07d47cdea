import { Link, Text } from '@react-email/components';
import { s } from './theme.ts';

/** Near the top of the web version: someone who reads it in a browser may not be a subscriber yet. */
export function SubscribeCall({ listName, href }: { listName: string; href: string }) {
  return (
    <Text className="dark-text" style={{ ...s.text, marginTop: '12px' }}>
      <Link href={href} className="dark-link" style={{ ...s.link, fontWeight: 700 }}>Subscribe</Link> to get {listName} in your
      inbox every Monday.
    </Text>
  );
}

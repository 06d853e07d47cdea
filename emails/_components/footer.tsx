import { Hr, Link, Text } from '@react-email/components';
import { Block } from './block.tsx';
import { s } from './theme.ts';
import type { DigestLinks } from './types.ts';

export interface FooterProps {
  listName: string;
  links: DigestLinks;
  recipientEmail: string;
  postalAddress: string;
  /** In the web version links.viewInBrowser is the archive and links.preferences the subscribe page. */
  webVersion?: boolean;
}

/** Why the reader gets this, and how to change that in one click. */
export function Footer({ listName, links, recipientEmail, postalAddress, webVersion = false }: FooterProps) {
  if (webVersion) {
    return (
      <Block className="pad" style={{ ...s.pad, paddingBottom: '28px' }}>
        <Hr className="dark-rule" style={s.rule} />
        <Text className="dark-muted" style={s.small}>
          This is the web version of {listName}.{' '}
          <Link href={links.preferences} className="dark-link" style={s.link}>Subscribe</Link> to get it every Monday, or browse
          the <Link href={links.viewInBrowser} className="dark-link" style={s.link}>archive</Link>.
        </Text>
        <Text className="dark-muted" style={s.small}>{postalAddress}</Text>
      </Block>
    );
  }
  return (
    <Block className="pad" style={{ ...s.pad, paddingBottom: '28px' }}>
      <Hr className="dark-rule" style={s.rule} />
      <Text className="dark-muted" style={s.small}>
        <Link href={links.viewInBrowser} className="dark-link" style={s.link}>View in browser</Link>
        {' · '}
        <Link href={links.preferences} className="dark-link" style={s.link}>Manage preferences</Link>
        {' · '}
        <Link href={links.unsubscribe} className="dark-link" style={s.link}>Unsubscribe</Link>
      </Text>
      <Text className="dark-muted" style={s.small}>
        You are receiving this email because {recipientEmail} subscribed to {listName}. Unsubscribing takes
        one click and stops every future edition.
      </Text>
      <Text className="dark-muted" style={s.small}>{postalAddress}</Text>
    </Block>
  );
}

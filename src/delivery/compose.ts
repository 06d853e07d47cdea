// The message for one delivery: the variant's body with the recipient's values filled in, and the
// headers bulk senders need (RFC 2369 List-*, RFC 8058 one-click unsubscribe, RFC 2919 List-Id).
import type { SendMailOptions } from 'nodemailer';
import type { Config } from '../config.ts';
import { headerSafe } from '../audience/email.ts';
import type { PersonalizedBody } from '../render/personalize.ts';
import { dkimOptions } from './dkim.ts';

export interface MessageParts {
  subject: string;
  listSlug: string;
  listName: string;
  recipient: { email: string; name: string | null };
  body: PersonalizedBody;
  unsubscribeUrl: string;
  /** The signed token inside unsubscribeUrl, reused in the mailto so mail replies are recognised. */
  unsubscribeToken: string;
  messageId: string;
  date: Date;
}

export function newMessageId(config: Config, unique: string): string {
  return `<${unique}@${config.from.address.split('@')[1]}>`;
}

/** The mailto half of List-Unsubscribe: the signed token in the subject, so a mailed request is recognised. */
export function unsubscribeMailto(mailbox: string, token: string): string {
  return `mailto:${mailbox}?subject=${encodeURIComponent(`unsubscribe ${token}`)}`;
}

export function composeMessage(config: Config, parts: MessageParts): SendMailOptions {
  const domain = config.from.address.split('@')[1] as string;
  const mailto = unsubscribeMailto(config.unsubscribeMailto, parts.unsubscribeToken);
  return {
    from: { name: headerSafe(config.from.name), address: config.from.address },
    replyTo: { name: headerSafe(config.replyTo.name), address: config.replyTo.address },
    to: { name: headerSafe(parts.recipient.name ?? ''), address: parts.recipient.email },
    subject: headerSafe(parts.subject),
    messageId: parts.messageId,
    date: parts.date,
    // nodemailer writes multipart/alternative with text first and HTML last (the preferred part).
    text: parts.body.text,
    html: parts.body.html,
    list: {
      id: { url: `${parts.listSlug}.${domain}`, comment: headerSafe(parts.listName) },
      // A nested array gives ONE List-Unsubscribe header holding both URIs, as RFC 8058 expects.
      unsubscribe: [[parts.unsubscribeUrl, mailto]],
    },
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    textEncoding: 'quoted-printable',
    ...(config.dkim ? { dkim: dkimOptions(config.dkim) } : {}),
  };
}

// One-off messages (confirmation, welcome) through the same transport as the editions. They are not
// bulk mail: no List-* headers, and no delivery row.
import { randomUUID } from 'node:crypto';
import { headerSafe } from '../audience/email.ts';
import type { Config } from '../config.ts';
import type { RenderedEmail } from '../render/transactional.ts';
import { newMessageId } from './compose.ts';
import { dkimOptions } from './dkim.ts';
import type { Submission, Transport } from './transport.ts';

export async function sendTransactional(
  transport: Transport,
  config: Config,
  to: { email: string; name: string | null },
  email: RenderedEmail,
  now: Date,
): Promise<Submission> {
  const id = randomUUID();
  return transport.submit(
    {
      from: { name: headerSafe(config.from.name), address: config.from.address },
      replyTo: { name: headerSafe(config.replyTo.name), address: config.replyTo.address },
      to: { name: headerSafe(to.name ?? ''), address: to.email },
      subject: headerSafe(email.subject),
      messageId: newMessageId(config, id),
      date: now,
      text: email.text,
      html: email.html,
      textEncoding: 'quoted-printable',
      ...(config.dkim ? { dkim: dkimOptions(config.dkim) } : {}),
    },
    { folder: 'transactional', id: `${now.toISOString().replace(/[-:.]/g, '')}-${id.slice(0, 8)}`, email: to.email },
  );
}

// A real SMTP server on loopback (smtp-server, the library nodemailer's own tests use) that keeps
// every message it accepts, keyed by recipient, and can refuse chosen recipients.
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: string;
}

export interface SmtpSink {
  url: string;
  messages: ReceivedMessage[];
  /** Messages per recipient address. */
  byRecipient(): Map<string, ReceivedMessage[]>;
  close(): Promise<void>;
}

export async function startSmtpSink(options: { reject?: (rcpt: string) => { code: number; message: string } | undefined } = {}): Promise<SmtpSink> {
  const messages: ReceivedMessage[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const refusal = options.reject?.(address.address);
      if (refusal) {
        const err = Object.assign(new Error(refusal.message), { responseCode: refusal.code });
        callback(err);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback(null, 'Queued as test');
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    byRecipient() {
      const map = new Map<string, ReceivedMessage[]>();
      for (const m of messages) for (const to of m.to) map.set(to, [...(map.get(to) ?? []), m]);
      return map;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// The mail files `recap bounces import` is given: single messages, mboxes, folders of them at any
// depth, Maildirs (cur/ and new/, file names such as 1764576000.M1P2.host:2,S). What cannot be a
// message (an empty file, binary data, a file that will not open) is named with why, and never
// stops the rest.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface MailFile {
  name: string;
  content: Buffer | string;
}

export interface Unreadable {
  where: string;
  why: string;
}

/** Every file under the paths, depth first in name order; a Maildir's tmp/ (deliveries still being written) is passed over. */
export function collectMailFiles(paths: string[]): { files: MailFile[]; unreadable: Unreadable[] } {
  const files: MailFile[] = [];
  const unreadable: Unreadable[] = [];
  const visit = (path: string, inMaildir: boolean) => {
    let entries: string[] | null = null;
    try {
      if (statSync(path).isDirectory()) entries = readdirSync(path).sort();
      else files.push({ name: path, content: readFileSync(path) });
    } catch (e) {
      unreadable.push({ where: path, why: `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    if (!entries) return;
    const maildir = entries.includes('cur') && entries.includes('new');
    for (const entry of entries) {
      if (entry.startsWith('.')) continue;
      if ((maildir || inMaildir) && entry === 'tmp') continue;
      visit(join(path, entry), maildir);
    }
  };
  for (const path of paths) visit(path, false);
  return { files, unreadable };
}

/** Why a file's bytes are not mail, or null when they may be. */
export function notMail(content: Buffer | string): string | null {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  if (bytes.length === 0 || bytes.toString('latin1').trim() === '') return 'an empty file';
  const sample = bytes.subarray(0, 4096);
  const control = sample.filter((b) => b === 0 || (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12 && b !== 27)).length;
  if (control > 0 && control / sample.length > 0.01) return 'binary data, not a mail message';
  return null;
}

/** Why one message has no mail header, or null when it has one. */
export function noHeader(message: string): string | null {
  const first = message.replace(/^\s+/, '').split(/\r?\n/, 1)[0] ?? '';
  return /^[A-Za-z][\w-]*:/.test(first) ? null : `not a mail message: it does not begin with header fields ("${first.slice(0, 40)}")`;
}


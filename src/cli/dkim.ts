import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../config.ts';
import { dkimTxtValue, generateDkimKey } from '../delivery/dkim.ts';
import { say } from './output.ts';

export function dkimCommand(program: Command): void {
  const dkim = program.command('dkim').description('DKIM signing keys and the DNS records to publish');
  dkim
    .command('keygen')
    .description('write a 2048-bit RSA key and print the DKIM, SPF and DMARC records to publish')
    .requiredOption('--domain <domain>', 'the From domain, e.g. example.com')
    .requiredOption('--selector <selector>', 'a name for this key, e.g. recap2026')
    .option('--out <file>', 'where to write the private key (default: var/dkim/<selector>.<domain>.pem)')
    .action((opts: { domain: string; selector: string; out?: string }) => {
      const domain = opts.domain.toLowerCase();
      if (!/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/.test(domain)) throw new ConfigError(`--domain "${opts.domain}" is not a domain name`);
      if (!/^[a-z0-9][a-z0-9._-]{0,62}$/i.test(opts.selector)) throw new ConfigError(`--selector "${opts.selector}" is not a selector such as recap2026`);
      const out = opts.out ?? join('var', 'dkim', `${opts.selector}.${domain}.pem`);
      if (existsSync(out)) throw new ConfigError(`${out} exists; pick another --out or --selector (keys are never overwritten)`);
      const key = generateDkimKey(2048);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, key.privateKeyPem, { mode: 0o600 });
      say(`Private key written to ${out} (keep it secret; mode 600).`);
      say('');
      say('1. Publish this TXT record (DKIM):');
      say(`   ${opts.selector}._domainkey.${domain}.  IN TXT  ${dkimTxtValue(key.publicKeyBase64)}`);
      say('');
      say('2. Check SPF: the TXT record of the domain must allow the server that sends for Recap, e.g.');
      say(`   ${domain}.  IN TXT  "v=spf1 include:<your relay's SPF> -all"`);
      say('');
      say('3. Check DMARC (start with p=none, read the reports, then tighten to quarantine or reject):');
      say(`   _dmarc.${domain}.  IN TXT  "v=DMARC1; p=none; rua=mailto:dmarc-reports@${domain}"`);
      say('');
      say('4. Then set, in the environment or .env:');
      say(`   DKIM_DOMAIN=${domain}`);
      say(`   DKIM_SELECTOR=${opts.selector}`);
      say(`   DKIM_PRIVATE_KEY_FILE=${out}`);
      say('MAIL_FROM must use this domain (or a subdomain) for DMARC to align.');
    });
}

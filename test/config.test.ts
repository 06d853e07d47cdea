import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, demoSecretPath, loadConfig, requireSecret } from '../src/config.ts';
import { tempDir } from './helpers/context.ts';

const example = readFileSync(join(import.meta.dirname, '../.env.example'), 'utf8');

describe('configuration', () => {
  it('documents every variable in .env.example, and .env.example documents nothing else', () => {
    const documented = Object.keys(parseEnv(example));
    expect(documented.sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('accepts .env.example as it is', () => {
    const config = loadConfig(parseEnv(example) as Record<string, string>);
    expect(config.from).toEqual({ name: 'Weekly AI Recap', address: 'recap@example.com' });
    expect(config.smtpUrl).toBeUndefined();
    expect(config.unsubscribeMailto).toBe('unsubscribe@example.com');
  });

  it('works with no environment at all (the embedded default)', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBe('var/recap.db');
    expect(config.outboxDir).toBe('var/outbox');
    expect(config.timeZone).toBe('UTC');
  });

  it('requires RECAP_SECRET, except where only the demo has run: then it uses the demo’s, with a warning', () => {
    const dir = tempDir();
    const config = loadConfig({ DATABASE_URL: join(dir, 'recap.db') });
    expect(() => requireSecret(config)).toThrow(/RECAP_SECRET is not set/);
    writeFileSync(demoSecretPath(config), 'demo-secret-value\n');
    const warnings: string[] = [];
    expect(requireSecret(config, (w) => warnings.push(w))).toBe('demo-secret-value');
    expect(warnings[0]).toContain('using the demo');
    expect(requireSecret(loadConfig({ DATABASE_URL: join(dir, 'recap.db'), RECAP_SECRET: 'x'.repeat(32) }))).toBe('x'.repeat(32));
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes MAIL_FROM and RECAP_EDITORS addresses with IDN domains and quoted local parts, stored as sent', () => {
    const config = loadConfig({ MAIL_FROM: '"Recap" <Recap@Bücher.example>', RECAP_EDITORS: 'Ed@Bücher.example "a..b"@example.org user%desk@example.org' });
    expect(config.from).toEqual({ name: 'Recap', address: 'recap@xn--bcher-kva.example' });
    expect(config.editors).toEqual(['ed@xn--bcher-kva.example', '"a..b"@example.org', 'user%desk@example.org']);
    expect(() => loadConfig({ RECAP_EDITORS: 'ed@example.org a..b@example.org' })).toThrow(/RECAP_EDITORS.*a\.\.b@example\.org/);
  });

  it('names each bad variable and why', () => {
    const attempt = () => loadConfig({ RECAP_TZ: 'Mars/Base', RECAP_MAX_STORIES: 'many', SMTP_URL: 'http://x', BASE_URL: 'ftp://x', RECAP_SECRET: 'short' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (e) {
      const message = (e as Error).message;
      for (const name of ['RECAP_TZ', 'RECAP_MAX_STORIES', 'SMTP_URL', 'BASE_URL', 'RECAP_SECRET']) expect(message).toContain(`${name}:`);
    }
    expect(() => loadConfig({ MAIL_FROM: 'not an address' })).toThrow(/MAIL_FROM/);
  });

  it('reads SMTP_TLS_CA at load, and names it when the file is missing or holds no certificate', () => {
    const ca = join(import.meta.dirname, 'fixtures/tls/cert.pem');
    expect(loadConfig({ SMTP_TLS_CA: ca }).smtpTlsCa).toBe(readFileSync(ca, 'utf8'));
    expect(loadConfig({}).smtpTlsCa).toBeUndefined();
    expect(() => loadConfig({ SMTP_TLS_CA: '/no/such/ca.pem' })).toThrow(/SMTP_TLS_CA: cannot read \/no\/such\/ca\.pem/);
    expect(() => loadConfig({ SMTP_TLS_CA: join(import.meta.dirname, 'fixtures/tls/README.md') })).toThrow(/SMTP_TLS_CA: .*README\.md holds no PEM certificate/);
  });
});

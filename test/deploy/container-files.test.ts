// The Dockerfile, compose.yaml and the systemd units, checked without a container engine: every
// variable they set is one Recap reads and .env.example documents, every command they run is one
// the CLI has (with the options they pass), node is what runs (never npm as PID 1), and the
// health check's path answers.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/config.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/context.ts';
import { createWebTest } from '../helpers/web.ts';

const ROOT = join(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const UNITS = ['deploy/systemd/recap-serve.service', 'deploy/systemd/recap-schedule.service'];
/** Node's own, not Recap's: bin/recap.js sets it to production when it is unset. */
const NODE_VARIABLES = ['NODE_ENV'];

/** Instructions of the Dockerfile, continuation lines joined, comments dropped. */
function dockerfile(): Array<{ op: string; args: string }> {
  return read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.trim().split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** KEY: value lines of each `environment:` block of compose.yaml. */
function composeEnvironment(): string[] {
  const lines = read('compose.yaml').split('\n');
  const names: string[] = [];
  lines.forEach((line, i) => {
    const block = /^(\s*)environment:\s*$/.exec(line);
    if (!block) return;
    const indent = (block[1] ?? '').length;
    for (const next of lines.slice(i + 1)) {
      const entry = /^(\s*)([A-Z][A-Z0-9_]*):/.exec(next);
      if (!entry || (entry[1] ?? '').length <= indent) break;
      names.push(entry[2] as string);
    }
  });
  return names;
}

/** Every variable the files set. */
function variablesSet(): Map<string, string> {
  const where = new Map<string, string>();
  for (const { op, args } of dockerfile()) {
    if (op === 'ENV') for (const m of args.matchAll(/([A-Z][A-Z0-9_]*)=/g)) where.set(m[1] as string, 'Dockerfile');
  }
  for (const name of composeEnvironment()) where.set(name, 'compose.yaml');
  for (const unit of UNITS) for (const m of read(unit).matchAll(/^Environment=([A-Z][A-Z0-9_]*)=/gm)) where.set(m[1] as string, unit);
  return where;
}

/** The argument lists the files give the CLI (what follows bin/recap.js). */
function cliInvocations(): Array<{ from: string; args: string[] }> {
  const out: Array<{ from: string; args: string[] }> = [];
  const ops = dockerfile();
  const entry = JSON.parse(ops.find((o) => o.op === 'ENTRYPOINT')?.args ?? 'null') as string[];
  expect(entry).toEqual(['node', 'bin/recap.js']);
  out.push({ from: 'Dockerfile CMD', args: JSON.parse(ops.find((o) => o.op === 'CMD')?.args ?? '[]') as string[] });
  for (const m of read('compose.yaml').matchAll(/^\s*command:\s*(\[.*\])\s*$/gm)) out.push({ from: 'compose.yaml command', args: JSON.parse(m[1] as string) as string[] });
  for (const m of read('compose.yaml').matchAll(/^\s*test:\s*(\[.*\])\s*$/gm)) {
    const test = JSON.parse(m[1] as string) as string[];
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', 'bin/recap.js']);
    out.push({ from: 'compose.yaml healthcheck', args: test.slice(3) });
  }
  for (const unit of UNITS) {
    for (const m of read(unit).matchAll(/^Exec\w+=(.*)$/gm)) {
      const words = (m[1] as string).trim().split(/\s+/);
      expect(words.slice(0, 2), `${unit}: ${m[0]}`).toEqual(['/usr/bin/node', '/opt/recap/bin/recap.js']);
      out.push({ from: unit, args: words.slice(2) });
    }
  }
  return out;
}

describe('container and service files', () => {
  it('set only variables Recap reads and .env.example documents', () => {
    const documented = new Set([...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string));
    const set = variablesSet();
    expect(set.size).toBeGreaterThan(3);
    for (const [name, file] of set) {
      if (NODE_VARIABLES.includes(name)) continue;
      expect(CONFIG_VARIABLES, `${file} sets ${name}`).toContain(name);
      expect(documented.has(name), `${file} sets ${name}, which .env.example does not document`).toBe(true);
    }
  });

  it('run node bin/recap.js, never npm (whose shell would keep SIGTERM from the process)', () => {
    for (const text of [read('Dockerfile'), read('compose.yaml'), ...UNITS.map(read)]) {
      const commands = text.split('\n').filter((l) => /^(ENTRYPOINT|CMD|\s*command:|\s*test:|Exec\w+=)/.test(l));
      for (const line of commands) expect(line).not.toMatch(/\bnpm\b|\bnpx\b|\bsh -c\b/);
    }
    expect(read('Dockerfile')).toMatch(/^RUN npm run build/m);
    expect(read('Dockerfile')).toMatch(/^USER recap$/m);
    expect(read('Dockerfile')).toMatch(/^FROM node:20-slim$/m);
    expect(read('Dockerfile')).toMatch(/^VOLUME \["\/data"\]$/m);
    for (const ignored of ['node_modules', '.env', 'var', 'dist']) expect(read('.dockerignore').split('\n')).toContain(ignored);
  });

  const cwd = tempDir('recap-deploy-');
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('run commands the CLI has, with options it takes', { timeout: 120_000 }, async () => {
    const invocations = cliInvocations();
    const commands = new Map<string, Set<string>>();
    for (const { from, args } of invocations) {
      // The command is the words before the first option; options are checked by name.
      const firstOption = args.findIndex((a) => a.startsWith('-'));
      const name = args.slice(0, firstOption === -1 ? args.length : firstOption).join(' ');
      expect(name, from).not.toBe('');
      const options = commands.get(name) ?? new Set<string>();
      for (const a of args) if (a.startsWith('--')) options.add(a);
      commands.set(name, options);
    }
    expect([...commands.keys()].sort()).toEqual(['db migrate', 'health', 'schedule', 'serve']);
    for (const [name, options] of commands) {
      const help = await runCli([...name.split(' '), '--help'], { cwd });
      expect(help.code, `recap ${name} --help`).toBe(0);
      expect(help.stdout).toContain(`Usage: recap ${name}`);
      for (const option of options) expect(help.stdout, `recap ${name} ${option}`).toContain(option);
    }
  });

  it('check a health path that answers: /readyz', async () => {
    expect(read('Dockerfile')).toContain("'/readyz'");
    const t = await createWebTest();
    try {
      expect((await t.app.request('/readyz')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { collectMailFiles } from '../audience/bounce-files.ts';
import { importBounceFiles } from '../audience/bounce-import.ts';
import { requireSecret } from '../config.ts';
import { withContext } from './context.ts';
import { EXIT, say, warn } from './output.ts';

export function bouncesCommand(program: Command): void {
  const bounces = program.command('bounces').description('bounces and complaints that came back by mail');
  bounces
    .command('import')
    .description('read bounces (RFC 3464 and the prose of qmail, Exim, Sendmail, Exchange, Gmail, Yahoo and others), complaint reports (RFC 5965), Amazon SES notifications and mailed unsubscribe requests from files, mboxes, Maildirs or folders of them')
    .argument('<paths...>', 'files or folders (read at any depth)')
    .option('--verbose', 'one line per message: what it was and what it did')
    .action(async (paths: string[], options: { verbose?: boolean }) => {
      const missing = paths.filter((p) => !existsSync(p));
      if (missing.length > 0) {
        warn(`no such file or folder: ${missing.join(', ')}`);
        process.exitCode = EXIT.usage;
        return;
      }
      const { files, unreadable } = collectMailFiles(paths);
      await withContext(async (ctx) => {
        const report = await importBounceFiles(ctx.db, ctx.config, requireSecret(ctx.config), files, ctx.clock.now());
        report.skipped.unshift(...unreadable);
        if (options.verbose) for (const o of [...unreadable.map((u) => ({ where: u.where, outcome: `skipped: ${u.why}` })), ...report.outcomes]) say(`${o.where}: ${o.outcome}`);
        const r = report.recorded;
        say(`${report.messages} messages read: ${r.hard} hard bounces, ${r.soft} soft, ${r.policy} policy rejections, ${r.complaint} complaints, ${report.delayed} delays (ignored)`);
        say(`${report.suppressed} addresses suppressed${report.unmatched ? `; ${report.unmatched} reports about addresses we never mailed (recorded)` : ''}`);
        if (report.unsubscribed) say(`${report.unsubscribed} readers unsubscribed by mail (List-Unsubscribe mailto)`);
        for (const s of report.skipped) warn(`  skipped ${s.where}: ${s.why}`);
        process.exitCode = report.skipped.length > 0 ? EXIT.partial : EXIT.ok;
      });
    });
}

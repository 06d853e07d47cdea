import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { importBounceFiles } from '../audience/bounce-import.ts';
import { requireSecret } from '../config.ts';
import { withContext } from './context.ts';
import { EXIT, say, warn } from './output.ts';

export function bouncesCommand(program: Command): void {
  const bounces = program.command('bounces').description('bounces and complaints that came back by mail');
  bounces
    .command('import')
    .description('read delivery status notifications (RFC 3464), complaint reports (RFC 5965) and mailed unsubscribe requests from .eml files, mboxes or folders of them')
    .argument('<paths...>', 'files or folders')
    .action(async (paths: string[]) => {
      const files: Array<{ name: string; content: string }> = [];
      for (const path of paths) {
        const entries = statSync(path).isDirectory()
          ? readdirSync(path).filter((f) => /\.(eml|mbox|msg|txt)$/i.test(f) || !f.includes('.')).sort().map((f) => join(path, f))
          : [path];
        for (const file of entries) files.push({ name: file, content: readFileSync(file, 'utf8') });
      }
      await withContext(async (ctx) => {
        const report = await importBounceFiles(ctx.db, ctx.config, requireSecret(ctx.config), files, ctx.clock.now());
        const r = report.recorded;
        say(`${report.messages} messages read: ${r.hard} hard bounces, ${r.soft} soft, ${r.policy} policy rejections, ${r.complaint} complaints, ${report.delayed} delays (ignored)`);
        say(`${report.suppressed} addresses suppressed${report.unmatched ? `; ${report.unmatched} reports about addresses we never mailed (recorded)` : ''}`);
        if (report.unsubscribed) say(`${report.unsubscribed} readers unsubscribed by mail (List-Unsubscribe mailto)`);
        for (const s of report.skipped) warn(`  skipped ${s.where}: ${s.why}`);
        process.exitCode = report.skipped.length > 0 ? EXIT.partial : EXIT.ok;
      });
    });
}

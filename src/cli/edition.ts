// `recap edition …`: the desk's actions from the command line.
import type { Command } from 'commander';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import { findList } from '../audience/lists.ts';
import { createTransport } from '../delivery/transport.ts';
import { controlEdition, editionStats } from '../editions/control.ts';
import { approveEdition, moveStory, type StoryMove, testSend, updateDetails } from '../editions/desk.ts';
import { withContext } from './context.ts';
import { describeCounts, existingEdition, printEdition } from './digest.ts';
import { ConfigError } from '../config.ts';
import { describeRun } from '../schedule/runs.ts';
import { say } from './output.ts';

export function editionCommand(program: Command): void {
  const edition = program.command('edition').description("the editor's desk from the command line: review, adjust, test, approve");

  edition
    .command('list')
    .description('editions, newest first, with their status and deliveries')
    .action(async () => {
      await withContext(async (ctx) => {
        const list = await findList(ctx.db, WEEKLY_AI_RECAP.slug);
        const editions = await ctx.db.selectFrom('editions').selectAll().where('list_id', '=', list.id).orderBy('week', 'desc').limit(52).execute();
        const runs = await ctx.db.selectFrom('schedule_runs').selectAll().where('list_id', '=', list.id).orderBy('week', 'desc').limit(52).execute();
        const runOf = new Map(runs.map((r) => [r.week, r]));
        // Weeks the schedule handled without making an edition (missed, too few stories) are listed too.
        const weeks = [...new Set([...editions.map((e) => e.week), ...runs.map((r) => r.week)])].sort().reverse().slice(0, 52);
        for (const week of weeks) {
          const row = editions.find((e) => e.week === week);
          const run = runOf.get(week);
          if (!row) {
            if (run) say(`-   ${week}  ${run.state.padEnd(9)}  no edition: ${describeRun(run)}`);
            continue;
          }
          const stats = await editionStats(ctx.db, { row });
          const missed = run?.state === 'missed' ? '  · its scheduled run was missed' : '';
          say(`#${row.number}  ${row.week}  ${row.status.padEnd(9)}  ${describeCounts(stats.counts)}; ${stats.bounced} bounced, ${stats.complained} complained, ${stats.unsubscribedSince} unsubscribed since  ${row.subject}${missed}`);
        }
      });
    });

  edition
    .command('show')
    .description('an edition: subject, stories in order with their scores, deliveries')
    .requiredOption('--week <week>', 'ISO week such as 2026-W48')
    .action(async (opts: { week: string }) => {
      await withContext(async (ctx) => {
        const e = await existingEdition(ctx, opts.week);
        printEdition(e);
        say('  Article ids (for pin/move/exclude):');
        e.stories.forEach((s, i) => say(`    ${i + 1}. id ${s.id}  ${s.title}`));
      });
    });

  for (const move of ['pin', 'up', 'down', 'exclude'] as const) {
    edition
      .command(move)
      .description({ pin: 'move a story to the top', up: 'move a story up one place', down: 'move a story down one place', exclude: 'take a story out' }[move] + ' (drafts only)')
      .requiredOption('--week <week>', 'ISO week such as 2026-W48')
      .requiredOption('--article <id>', 'the article id (see `recap edition show`)')
      .action(async (opts: { week: string; article: string }) => {
        await withContext(async (ctx) => {
          const order = await moveStory(ctx.db, await existingEdition(ctx, opts.week), Number(opts.article), move as StoryMove, ctx.clock.now());
          say(`Order now: ${order.join(', ')}`);
        });
      });
  }

  edition
    .command('edit')
    .description("change the subject, preheader or editor's note of a draft")
    .requiredOption('--week <week>', 'ISO week such as 2026-W48')
    .option('--subject <text>')
    .option('--preheader <text>')
    .option('--note <text>')
    .action(async (opts: { week: string; subject?: string; preheader?: string; note?: string }) => {
      await withContext(async (ctx) => {
        const e = await existingEdition(ctx, opts.week);
        await updateDetails(ctx.db, e, { subject: opts.subject ?? e.row.subject, preheader: opts.preheader ?? e.row.preheader, editorNote: opts.note ?? e.row.editor_note ?? '' }, ctx.clock.now());
        say('Saved.');
      });
    });

  edition
    .command('test')
    .description('send a test ([TEST] in the subject, not counted) to editors')
    .requiredOption('--week <week>', 'ISO week such as 2026-W48')
    .option('--to <addresses>', 'comma-separated (default: RECAP_EDITORS)')
    .option('--variant <topics>', 'comma-separated topics of the variant (default: the full edition)', '')
    .action(async (opts: { week: string; to?: string; variant: string }) => {
      await withContext(async (ctx) => {
        const to = (opts.to ?? ctx.config.editors.join(',')).split(',').map((a) => a.trim()).filter(Boolean);
        if (to.length === 0) throw new ConfigError('no address: pass --to or set RECAP_EDITORS');
        const transport = createTransport(ctx.config);
        try {
          await testSend(ctx.config, transport, await existingEdition(ctx, opts.week), opts.variant.split(',').filter(Boolean).sort().join(','), to, ctx.clock.now());
        } finally {
          await transport.close();
        }
        say(`Test sent to ${to.join(', ')}.`);
      });
    });

  edition
    .command('approve')
    .description('approve a draft: `recap schedule` sends it at its next minute, or at --at')
    .requiredOption('--week <week>', 'ISO week such as 2026-W48')
    .option('--at <time>', 'send at this time (ISO 8601, e.g. 2026-11-30T09:00:00+01:00)')
    .action(async (opts: { week: string; at?: string }) => {
      await withContext(async (ctx) => {
        const at = opts.at ? new Date(opts.at) : null;
        await approveEdition(ctx.db, await existingEdition(ctx, opts.week), process.env.USER ?? 'the command line', at, ctx.clock.now());
        say(at ? `Approved; it goes out at ${at.toISOString()}.` : 'Approved; `recap schedule` sends it at its next minute (or run `recap digest send`).');
      });
    });

  edition
    .command('cancel')
    .description('cancel an edition that has not gone out')
    .requiredOption('--week <week>', 'ISO week such as 2026-W48')
    .action(async (opts: { week: string }) => {
      await withContext(async (ctx) => {
        await controlEdition(ctx.db, await existingEdition(ctx, opts.week), 'cancel', ctx.clock.now());
        say('Cancelled.');
      });
    });
}

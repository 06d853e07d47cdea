// `recap edition …`: the desk's actions from the command line.
import type { Command } from 'commander';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import { findList } from '../audience/lists.ts';
import { createTransport } from '../delivery/transport.ts';
import { controlEdition, editionStats } from '../delivery/control.ts';
import { addItem, approveEdition, backToDraft, editBlurb, moveStory, type StoryMove, updateDetails } from '../desk/actions.ts';
import { previewTarget } from '../desk/preview.ts';
import { describeSend, sendPlan } from '../desk/schedule.ts';
import { testSend } from '../desk/test-send.ts';
import { type Audience, editionAudience } from '../desk/variants.ts';
import { describeVariantKey } from '../render/arrange.ts';
import { editionEntries } from '../editions/editions.ts';
import type { Context } from '../context.ts';
import { withContext } from './context.ts';
import { describeCounts, existingEdition, printEdition } from './digest.ts';
import { ConfigError } from '../config.ts';
import { describeRun } from '../schedule/runs.ts';
import { plural, say } from './output.ts';

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
        say('  Article ids (for pin/move/exclude/blurb):');
        e.stories.forEach((s, i) => say(`    ${i + 1}. id ${s.id}  ${s.title}${s.id === e.row.pinned_article_id ? '  (pinned: leads every variant)' : ''}${e.edited.has(s.id) ? '  (blurb edited)' : ''}`));
        for (const item of e.items) say(`  Editor's item after ${item.after}: ${item.title} <${item.url}>`);
        if (e.row.status === 'draft' || e.row.status === 'approved') printAudience(await editionAudience(ctx.db, e));
      });
    });

  for (const move of ['pin', 'unpin', 'up', 'down', 'exclude'] as const) {
    edition
      .command(move)
      .description({ pin: 'move a story to the top; it leads every variant', unpin: 'let variants lead with their readers’ topics again', up: 'move a story up one place', down: 'move a story down one place', exclude: 'take a story out' }[move] + ' (drafts only)')
      .requiredOption('--week <week>', 'ISO week such as 2026-W48')
      .requiredOption('--article <id>', 'the article id (see `recap edition show`)')
      .action(async (opts: { week: string; article: string }) => {
        await withContext(async (ctx) => {
          await moveStory(ctx.db, await existingEdition(ctx, opts.week), Number(opts.article), move as StoryMove, ctx.clock.now());
          const e = await existingEdition(ctx, opts.week);
          say(`Order now: ${editionEntries(e).map((x) => (x.kind === 'story' ? String(x.story.id) : `item ${x.item.id}`)).join(', ')}`);
          if (e.row.pinned_article_id) say(`Pinned: article ${e.row.pinned_article_id} leads every variant.`);
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
    .command('blurb')
    .description("change a story's hook and TL;DR for this edition only (the stored article stays as it is)")
    .requiredOption('--week <week>', 'ISO week such as 2026-W48')
    .requiredOption('--article <id>', 'the article id (see `recap edition show`)')
    .option('--hook <text>')
    .option('--what-changed <text>')
    .option('--why-it-matters <text>')
    .option('--what-to-do-next <text>')
    .option('--who-should-care <text>')
    .option('--restore', "go back to the article's own hook and TL;DR")
    .action(async (opts: { week: string; article: string; hook?: string; whatChanged?: string; whyItMatters?: string; whatToDoNext?: string; whoShouldCare?: string; restore?: boolean }) => {
      await withContext(async (ctx) => {
        const e = await existingEdition(ctx, opts.week);
        const story = e.stories.find((s) => s.id === Number(opts.article));
        const tldr = story?.tldr ?? null;
        const parts = { whatChanged: opts.whatChanged ?? tldr?.whatChanged, whyItMatters: opts.whyItMatters ?? tldr?.whyItMatters, whatToDoNext: opts.whatToDoNext ?? tldr?.whatToDoNext, whoShouldCare: opts.whoShouldCare ?? tldr?.whoShouldCare };
        const hasTldr = Object.values(parts).some((v) => v !== undefined);
        await editBlurb(ctx.db, e, Number(opts.article), opts.restore ? null : { hook: opts.hook ?? story?.hook ?? '', tldr: hasTldr ? { whatChanged: parts.whatChanged ?? '', whyItMatters: parts.whyItMatters ?? '', whatToDoNext: parts.whatToDoNext ?? '', whoShouldCare: parts.whoShouldCare ?? '' } : null }, ctx.clock.now());
        say(opts.restore ? "The article's own blurb is back." : 'Blurb saved for this edition.');
      });
    });

  edition
    .command('item')
    .description("add an editor's item (a link with a title and a line) to a draft")
    .requiredOption('--week <week>', 'ISO week such as 2026-W48')
    .requiredOption('--title <text>')
    .requiredOption('--url <url>')
    .option('--line <text>', 'one line under the title', '')
    .option('--after <n>', 'place it after the first n entries of the order (default: at the end)')
    .action(async (opts: { week: string; title: string; url: string; line: string; after?: string }) => {
      await withContext(async (ctx) => {
        const e = await existingEdition(ctx, opts.week);
        await addItem(ctx.db, e, { title: opts.title, url: opts.url, line: opts.line, after: opts.after === undefined ? editionEntries(e).length : Number(opts.after) }, ctx.clock.now());
        say("Editor's item added.");
      });
    });

  edition
    .command('test')
    .description('send a test ([TEST] in the subject, not counted) to editors: a variant, or what one subscriber gets')
    .requiredOption('--week <week>', 'ISO week such as 2026-W48')
    .option('--to <addresses>', 'comma-separated (default: RECAP_EDITORS)')
    .option('--variant <topics>', 'comma-separated topics of the variant (default: the full edition)', '')
    .option('--subscriber <email>', 'what this subscriber gets (their variant, their name)')
    .action(async (opts: { week: string; to?: string; variant: string; subscriber?: string }) => {
      await withContext(async (ctx) => {
        const to = (opts.to ?? ctx.config.editors.join(',')).split(',').map((a) => a.trim()).filter(Boolean);
        if (to.length === 0) throw new ConfigError('no address: pass --to or set RECAP_EDITORS');
        const e = await existingEdition(ctx, opts.week);
        const target = await previewTarget(ctx.db, e, { variant: opts.variant, subscriber: opts.subscriber });
        const transport = createTransport(ctx.config);
        let subject: string;
        try {
          subject = (await testSend(ctx.config, transport, e, target, to, ctx.clock.now())).subject;
        } finally {
          await transport.close();
        }
        say(`Test of ${target.label} sent to ${to.join(', ')}: ${subject}`);
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
        const e = await existingEdition(ctx, opts.week);
        const audience = await editionAudience(ctx.db, e);
        await approveEdition(ctx.db, e, process.env.USER ?? 'the command line', at, ctx.clock.now());
        printAudience(audience);
        say(`Approved for ${plural(audience.total, 'reader')}. ${describeSend({ ...(await sendPlan(ctx.db, ctx.config, e, ctx.clock.now())), sendAt: at }, ctx.config.timeZone, ctx.clock.now())}`);
        say(`Until the send starts, \`recap edition draft --week ${e.row.week}\` takes it back.`);
      });
    });

  edition
    .command('draft')
    .description('take an approved edition back to draft (until its send starts)')
    .requiredOption('--week <week>', 'ISO week such as 2026-W48')
    .action(async (opts: { week: string }) => {
      await withContext(async (ctx: Context) => {
        await backToDraft(ctx.db, await existingEdition(ctx, opts.week), ctx.clock.now());
        say('Back to draft: it will not go out until it is approved again.');
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

/** Who gets which variant, with the subject and preheader each goes out with. */
function printAudience(audience: Audience): void {
  say(`  Audience: ${plural(audience.total, 'reader')} in ${plural(audience.variants.filter((v) => v.readers > 0).length, 'variant')}`);
  // The other format's twins with no readers are for the desk's preview.
  for (const v of audience.variants.filter((x) => x.readers > 0 || x.key === '')) {
    say(`    ${describeVariantKey(v.key)}: ${plural(v.readers, 'reader')} · ${v.subject}${v.displaced ? `  (pinned, instead of: ${v.displaced.title})` : ''}`);
    say(`      ${v.preheader}`);
  }
}

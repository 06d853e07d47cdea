import type { Command } from 'commander';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import type { DeliveryStatus, ScheduleRunRow } from '../../db/schema.ts';
import { requireSecret } from '../config.ts';
import { findList, NotFoundError } from '../audience/lists.ts';
import { audienceBreakdown, findSegment } from '../audience/segments.ts';
import { type Context, systemSleep } from '../context.ts';
import { createTransport } from '../delivery/transport.ts';
import { type Edition, ensureEdition, findEdition, updateDraft } from '../editions/editions.ts';
import { writePreview } from '../desk/preview-files.ts';
import { primaryTopic } from '../editions/select.ts';
import { previousWeek, weekWindow } from '../editions/week.ts';
import { controlEdition, editionStats, editionStatus } from '../delivery/control.ts';
import { activeDomainPauses } from '../delivery/domain-pauses.ts';
import { type FormatStats, statsByFormat } from '../delivery/format-stats.ts';
import { quotaOutlook } from '../delivery/quota.ts';
import { findSubjectTest, subjectTestReport } from '../delivery/subject-test.ts';
import { formatP, percent } from '../editions/subject-stats.ts';
import { terminalSafe } from '../plain-text.ts';
import { describeWave, editionWaves, nextWave, waveLine } from '../delivery/waves.ts';
import { commandToGoOn, renderSettings, runWeeklyRecap, type WeeklyReport } from '../recap.ts';
import { describeRun, findRun, missedAdvice } from '../schedule/runs.ts';
import { describeSubjectTest } from '../schedule/status.ts';
import { localTime } from '../schedule/slots.ts';
import { describeVariantKey, parseVariantKey } from '../render/arrange.ts';
import { BRIEF_HTML_LIMIT, HTML_LIMIT } from '../render/variant.ts';
import { withContext } from './context.ts';
import { EXIT, kb, plural, progress, say, table, warn } from './output.ts';

const weekHelp = 'ISO week such as 2026-W48 (default: the week that ended last, in RECAP_TZ)';

export function digestCommand(program: Command): void {
  const digest = program.command('digest').description("build, preview and send a week's edition");

  digest
    .command('build')
    .description("select and freeze a week's stories as a draft edition (or show the existing one)")
    .option('--week <week>', weekHelp)
    .option('--note <text>', "an editor's note shown above the stories (drafts only)")
    .option('--subject <text>', 'replace the default subject (drafts only)')
    .action(async (opts: { week?: string; note?: string; subject?: string }) => {
      await withContext(async (ctx) => {
        const edition = await buildEdition(ctx, opts.week, { editorNote: opts.note, subject: opts.subject });
        if (!edition) return;
        printEdition(edition);
        const run = await findRun(ctx.db, edition.list.id, edition.row.week);
        if (run?.state === 'missed' && edition.row.status === 'draft') {
          say(`Its scheduled run was missed: ${run.detail}. Built by hand, it goes out once approved (\`recap edition approve --week ${edition.row.week}\`, or on the desk) or sent with \`recap digest send --week ${edition.row.week}\`.`);
        }
      });
    });

  digest
    .command('send')
    .description('send the edition to every eligible subscriber (or a segment); re-running sends nothing twice')
    .option('--week <week>', weekHelp)
    .option('--segment <name>', 'only the subscribers of this segment')
    .option('--note <text>', "an editor's note, when the edition is still a draft")
    .option('--dry-run', 'show who would get which variant; write and send nothing')
    .option('--no-wait', 'do not wait for deferred deliveries to come due; a later run retries them')
    .action(async (opts: { week?: string; segment?: string; note?: string; dryRun?: boolean; wait?: boolean }) => {
      await withContext(async (ctx) => {
        await sendAndReport(ctx, { ...opts, week: opts.week ?? previousWeek(ctx.clock.now(), ctx.config.timeZone) });
      });
    });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    const about = {
      pause: 'pause a sending edition; the sender stops after its batch in flight',
      resume: 'resume a paused edition and send what is left',
      cancel: 'cancel an edition; what was not tried yet is recorded as skipped',
    }[action];
    const command = digest
      .command(action)
      .description(about)
      .requiredOption('--week <week>', 'ISO week such as 2026-W48');
    // A paused segment send goes on for the same segment, not for the whole list.
    if (action === 'resume') command.option('--segment <name>', 'only the subscribers of this segment, as the paused send had');
    command.action(async (opts: { week: string; segment?: string }) => {
      await withContext(async (ctx) => {
        const edition = await existingEdition(ctx, opts.week);
        const status = await controlEdition(ctx.db, edition, action, ctx.clock.now());
        say(`Edition ${edition.row.week} is now ${status}.`);
        if (action === 'resume') await sendAndReport(ctx, { week: opts.week, segment: opts.segment });
      });
    });
  }

  digest
    .command('status')
    .description('where an edition stands: deliveries per state and per format, waves of local send time, bounces, clicks, rate and time left')
    .option('--week <week>', weekHelp)
    .option('--json', 'print JSON')
    .action(async (opts: { week?: string; json?: boolean }) => {
      await withContext(async (ctx) => {
        const list = await findList(ctx.db, WEEKLY_AI_RECAP.slug);
        const week = weekWindow(opts.week ?? previousWeek(ctx.clock.now(), ctx.config.timeZone), ctx.config.timeZone).week;
        const run = await findRun(ctx.db, list.id, week);
        const found = await findEdition(ctx.db, list, week, ctx.config.timeZone);
        // A week the schedule handled without an edition (missed, too few stories) is an answer too.
        if (!found && run) {
          say(noEditionMessage(week, run));
          return;
        }
        const edition = found ?? (await existingEdition(ctx, week));
        const s = await editionStatus(ctx.db, edition, ctx.clock.now(), ctx.config.rate);
        const waves = await editionWaves(ctx.db, edition.row.id, ctx.config.timeZone, ctx.clock.now());
        const formats = await statsByFormat(ctx.db, edition.row.id);
        if (opts.json) {
          say(JSON.stringify({ week: edition.row.week, number: edition.row.number, ...s, formats, waves }, null, 2));
          return;
        }
        say(`Edition #${edition.row.number} · ${edition.row.week} · ${s.status}${s.pausedReason ? ` (${s.pausedReason})` : ''}`);
        if (run) say(`  Schedule: ${describeRun(run)}`);
        // The edition does not record a send's segment: the operator knows whether it had one.
        if (s.status === 'paused') say(`  To go on: \`${commandToGoOn('paused', { week: edition.row.week })}\` (with --segment NAME if the paused send had one)`);
        say(`  Deliveries: ${describeCounts(s.counts)}`);
        for (const f of formats) say(`    ${f.format}: ${describeFormat(f)}`);
        if (waves.length > 0) {
          const count = (state: string) => waves.filter((w) => w.state === state).length;
          say(`  Waves (local send time): ${count('done')} done, ${count('sending')} sending, ${count('to come')} to come`);
          for (const w of waves) say(`    ${waveLine(w)}`);
        }
        const after = await editionStats(ctx.db, edition);
        say(`  Bounces: ${s.bounces.hard} hard, ${s.bounces.soft} soft, ${s.bounces.policy} policy, ${s.bounces.complaint} complaints`);
        say(`  Since it went out: ${after.bounced} bounced, ${after.complained} complained, ${after.unsubscribedSince} unsubscribed`);
        say(`  Rate: ${s.recentRate.toFixed(1)} messages/s over the last minute (limit ${ctx.config.rate || 'none'})`);
        if (s.secondsLeft !== null) say(`  Time left: about ${formatDuration(s.secondsLeft)}`);
        const left = s.counts.queued + s.counts.claimed + s.counts.deferred;
        for (const q of await quotaOutlook(ctx.db, ctx.config.quotas, ctx.clock.now(), left)) {
          const rest = left === 0 ? '' : q.restBy <= ctx.clock.now() ? `; room for the ${left} left` : `; the ${left} left can all go by ${localTime(q.restBy, ctx.config.timeZone)}`;
          say(`  Quota ${q.label}: ${q.used} of ${q.limit} used in the window${rest}`);
        }
        for (const [domain, until] of await activeDomainPauses(ctx.db, ctx.clock.now())) say(`  Paused: ${domain} until ${localTime(new Date(until), ctx.config.timeZone)} (policy rejections)`);
        if (s.nextRetryAt) say(`  Next retry: ${s.nextRetryAt}`);
        const test = await findSubjectTest(ctx.db, edition.row.id);
        if (test) {
          const t = await subjectTestReport(ctx.db, test, ctx.clock.now());
          say(`  Subject test: ${describeSubjectTest(t, ctx.config.timeZone).replace(/^subject test /, '')}`);
          for (const a of t.arms) say(`    ${a.letter}: ${a.delivered} delivered, ${a.clicked} clicked (${percent(a.rate)})${a.p === null ? (a.arm === 0 ? '' : ', too few to test') : `, z = ${a.z?.toFixed(2)}, p = ${formatP(a.p)} against A`} · ${terminalSafe(a.subject)}`);
        }
        if (s.counts.uncertain > 0) say(`  ${s.counts.uncertain} uncertain: sent to the server, but its reply was lost (the connection failed after the message, or the sender died); not re-sent (RECAP_RESEND_UNCERTAIN=true would).`);
      });
    });

  digest
    .command('preview')
    .description('write the HTML and text of each variant, or of what one subscriber would receive')
    .option('--week <week>', weekHelp)
    .option('--segment <name>', 'the variants this segment would receive')
    .option('--subscriber <email>', 'exactly what this subscriber would receive')
    .requiredOption('--out <dir>', 'where to write the files')
    .action(async (opts: { week?: string; segment?: string; subscriber?: string; out: string }) => {
      if (opts.segment && opts.subscriber) {
        warn('choose --segment or --subscriber, not both');
        process.exitCode = EXIT.usage;
        return;
      }
      await withContext(async (ctx) => {
        const edition = await buildEdition(ctx, opts.week, {});
        if (!edition) return;
        const rules = opts.segment ? (await findSegment(ctx.db, opts.segment)).parsedRules : undefined;
        const files = await writePreview(ctx.db, edition, {
          outDir: opts.out,
          settings: renderSettings(ctx),
          secret: ctx.config.secret,
          rules,
          subscriberEmail: opts.subscriber,
        });
        say(`Preview of ${edition.row.week} (#${edition.row.number}, ${edition.row.status}):`);
        for (const f of files) {
          const who = f.recipients === undefined ? '' : ` · ${plural(f.recipients, 'recipient')}`;
          say(`  ${f.variant}${who} · ${kb(f.htmlBytes)} HTML${f.compacted ? ` · ${f.compacted} stories shortened` : ''}`);
          say(`    Subject: ${f.subject}`);
          say(`    ${f.html}`);
          say(`    ${f.text}`);
        }
      });
    });
}

/** The week's edition; without one, an error that says what the schedule did for that week. */
export async function existingEdition(ctx: Context, week: string): Promise<Edition> {
  const list = await findList(ctx.db, WEEKLY_AI_RECAP.slug);
  const iso = weekWindow(week, ctx.config.timeZone).week;
  const edition = await findEdition(ctx.db, list, iso, ctx.config.timeZone);
  if (!edition) throw new NotFoundError(noEditionMessage(iso, await findRun(ctx.db, list.id, iso)));
  return edition;
}

function noEditionMessage(week: string, run: ScheduleRunRow | undefined): string {
  if (!run) return `no edition for ${week}; \`recap digest build --week ${week}\` makes one`;
  if (run.state === 'missed') return `no edition for ${week}: its scheduled ${describeRun(run)}; nothing was made or sent, and the editors were told. ${missedAdvice(week)}.`;
  return `no edition for ${week}: the schedule recorded it as ${describeRun(run)}`;
}

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The week's edition, made as a draft if needed; prints why and sets the exit code when it can't be. */
async function buildEdition(ctx: Context, week: string | undefined, changes: { editorNote?: string | undefined; subject?: string | undefined }): Promise<Edition | undefined> {
  const list = await findList(ctx.db, WEEKLY_AI_RECAP.slug);
  const planned = await ensureEdition(ctx.db, list, {
    week: week ?? previousWeek(ctx.clock.now(), ctx.config.timeZone),
    timeZone: ctx.config.timeZone,
    rules: { maxStories: ctx.config.maxStories, maxPerTopic: ctx.config.maxPerTopic, minStories: ctx.config.minStories },
    now: ctx.clock.now(),
    ...changes,
    persist: true,
    trackClicks: ctx.config.trackClicks,
  });
  if (!planned.ok) {
    say(`No edition for ${planned.window.week} (${planned.window.label}): ${planned.reason}.`);
    process.exitCode = EXIT.tooFewStories;
    return undefined;
  }
  return planned.created ? planned.edition : updateDraft(ctx.db, planned.edition, changes, ctx.clock.now());
}

export async function sendAndReport(
  ctx: Context,
  opts: { week: string; segment?: string | undefined; note?: string | undefined; dryRun?: boolean | undefined; wait?: boolean | undefined },
): Promise<WeeklyReport> {
  const secret = opts.dryRun ? '' : requireSecret(ctx.config);
  const bar = progress('sending');
  // SIGINT or SIGTERM: finish the messages in flight, record them, release the edition and stop.
  // Listening the whole time, not once: a Ctrl-C under npx arrives twice (from the terminal and
  // forwarded by npm), and a second signal with no listener would kill the sender mid-message.
  const stop = new AbortController();
  const onSignal = (name: string) => {
    if (stop.signal.aborted) return;
    warn(`${name}: finishing the messages in flight, then stopping`);
    stop.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  let report: WeeklyReport;
  try {
    report = await runWeeklyRecap(
      ctx,
      {
        transport: () => createTransport(ctx.config),
        secret,
        sleep: systemSleep,
        log: (line) => warn(line),
        onProgress: (done, total) => bar.update(done, total),
        signal: stop.signal,
        waitForRetries: opts.wait ?? true,
      },
      { week: opts.week, segment: opts.segment, dryRun: opts.dryRun ?? false, editorNote: opts.note },
    );
  } finally {
    bar.stop();
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  if (report.kind === 'too-few-stories') {
    say(`No edition for ${report.window.week} (${report.window.label}): ${report.reason}. Nothing was sent.`);
    process.exitCode = EXIT.tooFewStories;
    return report;
  }
  printEdition(report.edition);
  const rules = opts.segment ? (await findSegment(ctx.db, opts.segment)).parsedRules : undefined;
  const audience = await audienceBreakdown(ctx.db, report.edition.list.id, rules);
  const left = Object.entries(audience.excluded).map(([why, n]) => `${n} ${why}`);
  say(`Audience${opts.segment ? ` (segment ${opts.segment})` : ''}: ${audience.eligible} of ${plural(audience.members, 'member')} eligible${left.length ? `; left out: ${left.join(', ')}` : ''}`);

  if (report.kind === 'dry-run') {
    say('Variants (dry run: nothing written, nothing sent):');
    printVariants(report.edition, report.variants.map((v) => ({ key: v.rendered.topicsKey, recipients: v.recipients, htmlBytes: v.rendered.htmlBytes, compacted: v.rendered.compacted, omitted: v.rendered.omitted })));
    return report;
  }
  if (report.outcome.variants.length > 0) {
    say('Variants:');
    printVariants(report.edition, report.outcome.variants);
  }
  const { outcome, counts } = report;
  say(`This run: ${outcome.submitted} submitted, ${outcome.deferred} deferred, ${outcome.failed} failed, ${outcome.skipped} skipped${outcome.uncertain > 0 ? `, ${outcome.uncertain} uncertain` : ''} (${report.enqueued} newly queued) → ${report.target}`);
  if (outcome.requeued > 0) say(`Back in the queue: ${plural(outcome.requeued, 'delivery', 'deliveries')} not sent because the SMTP server could not be reached (no attempt counted).`);
  if (outcome.recoveredUncertain > 0) say(`Uncertain: ${outcome.recoveredUncertain} deliveries were in flight when an earlier run died; not re-sent (RECAP_RESEND_UNCERTAIN=true would).`);
  if (outcome.requeuedUncertain > 0) say(`Re-sent: ${outcome.requeuedUncertain} uncertain deliveries (RECAP_RESEND_UNCERTAIN=true), with their original Message-IDs.`);
  say(`Edition total: ${describeCounts(counts)} · status ${report.edition.row.status}`);
  const wave = await nextWave(ctx.db, report.edition.row.id, ctx.config.timeZone, ctx.clock.now());
  if (wave && !outcome.interrupted) {
    say(`Later waves: the next is ${describeWave(wave)}. \`recap schedule\` or a \`recap worker\` sends each as it comes due; by hand, \`${commandToGoOn(report.edition.row.status, { ...opts, week: report.edition.row.week, wait: true })}\` waits for them.`);
  }
  for (const d of outcome.pausedDomains) warn(`  paused sending to ${d.domain} until ${d.until} after policy rejections (last: ${d.reply})`);
  for (const e of outcome.errors) warn(`  not submitted: ${e.email}: ${e.error}`);
  if (outcome.quotaUntil) {
    const left = counts.queued + counts.deferred + counts.claimed;
    warn(`The relay's quota (RECAP_QUOTA) is used up: ${plural(left, 'delivery waits', 'deliveries wait')} until ${localTime(outcome.quotaUntil, ctx.config.timeZone)}. The schedule or a \`recap worker\` goes on by itself; by hand, run \`${commandToGoOn(report.edition.row.status, { ...opts, week: report.edition.row.week })}\` then.`);
    process.exitCode = EXIT.stopped;
  } else if (outcome.pausedBecause || outcome.interrupted) {
    const next = commandToGoOn(report.edition.row.status, { ...opts, week: report.edition.row.week });
    const why = outcome.pausedBecause ? `Paused: ${outcome.pausedBecause}.` : `Stopped before the end; ${plural(counts.queued + counts.deferred, 'delivery waits', 'deliveries wait')}.`;
    warn(next ? `${why} ${outcome.pausedBecause ? 'Fix that, then run' : 'To go on, run'} \`${next}\`.` : `${why} Edition ${report.edition.row.week} is ${report.edition.row.status}: nothing more will be sent.`);
    process.exitCode = EXIT.stopped;
  } else if (counts.failed + counts.uncertain + counts.deferred > 0) process.exitCode = EXIT.partial;
  return report;
}

/** "12 readers: 10 submitted, 1 failed, 1 deferred, 0 uncertain · 7 clicks". */
export function describeFormat(f: FormatStats): string {
  return `${plural(f.readers, 'reader')}: ${f.submitted} submitted, ${f.failed} failed, ${f.deferred} deferred, ${f.uncertain} uncertain${f.queued ? `, ${f.queued} to send` : ''} · ${plural(f.clicks, 'click')}`;
}

export function describeCounts(counts: Record<DeliveryStatus, number>): string {
  return (['submitted', 'deferred', 'failed', 'skipped', 'uncertain', 'queued', 'claimed'] as const)
    .filter((s) => counts[s] > 0 || s === 'submitted' || s === 'failed')
    .map((s) => `${counts[s]} ${s}`)
    .join(', ');
}

export function printEdition(edition: Edition): void {
  const r = edition.row;
  say(`Edition #${r.number} of ${edition.list.name} · ${r.week} (${edition.window.label}) · ${r.status}`);
  say(`  Subject: ${r.subject}`);
  say(`  Preheader: ${r.preheader}`);
  if (r.editor_note) say(`  Editor's note: ${r.editor_note.split('\n')[0]}`);
  say(`  Stories (${edition.stories.length}):`);
  const rows = edition.stories.map((s, i) => [`${i + 1}.`, String(s.score), primaryTopic(s) || '-', `${s.title}${i === 0 ? '  ← top story' : ''}`]);
  for (const line of table(rows)) say(`    ${line}`);
}

function printVariants(edition: Edition, variants: Array<{ key: string; recipients: number; htmlBytes: number; compacted: number[]; omitted?: number[] }>): void {
  const titles = new Map(edition.stories.map((s) => [s.id, s.title]));
  const rows = [...variants]
    .sort((a, b) => b.recipients - a.recipients)
    .map((v) => [
      describeVariantKey(v.key),
      plural(v.recipients, 'recipient'),
      `${kb(v.htmlBytes)} HTML`,
      v.compacted.length ? `${v.compacted.length} shortened to title and link${v.omitted?.length ? `, ${v.omitted.length} left out` : ''} to stay under ${kb(parseVariantKey(v.key).format === 'brief' ? BRIEF_HTML_LIMIT : HTML_LIMIT)}` : '',
    ]);
  for (const line of table(rows)) say(`  ${line}`);
  for (const v of variants) {
    for (const id of v.compacted) say(`    shortened in "${describeVariantKey(v.key)}": ${titles.get(id)}`);
  }
}

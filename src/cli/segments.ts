import type { Command } from 'commander';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import { describeIssues } from '../articles/article.ts';
import { findList } from '../audience/lists.ts';
import { audienceBreakdown, createSegment, findSegment, listSegments, segmentRulesSchema } from '../audience/segments.ts';
import { withContext } from './context.ts';
import { EXIT, say, warn } from './output.ts';

const csv = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);

export function segmentsCommand(program: Command): void {
  const segments = program.command('segments').description('saved rules that pick subscribers of a list');

  segments
    .command('create')
    .description('save a segment; every rule given must hold (topics: follows any of them)')
    .argument('<name>', 'a name to send to with --segment')
    .option('--list <slug>', 'the list', WEEKLY_AI_RECAP.slug)
    .option('--topics <topics>', 'follows at least one of these comma-separated topics')
    .option('--status <statuses>', 'subscriber status is one of these (pending, active, unsubscribed, bounced, complained)')
    .option('--attr <name=value>', 'an attribute (a CSV column) equals a value; repeatable', (v: string, all: string[] = []) => [...all, v])
    .option('--signed-up-from <date>', 'signed up on or after this date (YYYY-MM-DD)')
    .option('--signed-up-before <date>', 'signed up before this date (YYYY-MM-DD)')
    .action(async (name: string, opts: { list: string; topics?: string; status?: string; attr?: string[]; signedUpFrom?: string; signedUpBefore?: string }) => {
      const badAttr = (opts.attr ?? []).find((a) => !/^[^=]+=/.test(a));
      if (badAttr) {
        warn(`--attr "${badAttr}" is not name=value`);
        process.exitCode = EXIT.usage;
        return;
      }
      const parsed = segmentRulesSchema.safeParse({
        topics: opts.topics ? csv(opts.topics) : undefined,
        status: opts.status ? csv(opts.status) : undefined,
        attributes: opts.attr ? Object.fromEntries(opts.attr.map((a) => [a.slice(0, a.indexOf('=')).trim().toLowerCase(), a.slice(a.indexOf('=') + 1)])) : undefined,
        signedUpFrom: opts.signedUpFrom,
        signedUpBefore: opts.signedUpBefore,
      });
      if (!parsed.success) {
        warn(`segment not saved: ${describeIssues(parsed.error).join('; ')}`);
        process.exitCode = EXIT.usage;
        return;
      }
      await withContext(async (ctx) => {
        const list = await findList(ctx.db, opts.list);
        await createSegment(ctx.db, { name, listId: list.id, rules: parsed.data }, ctx.clock.now());
        const counts = await audienceBreakdown(ctx.db, list.id, parsed.data);
        say(`segment "${name}" saved: ${counts.members} members, ${counts.eligible} would receive an edition`);
      });
    });

  segments
    .command('show')
    .description("a segment's rules and how many subscribers it holds now")
    .argument('<name>', 'the segment')
    .action(async (name: string) => {
      await withContext(async (ctx) => {
        const segment = await findSegment(ctx.db, name);
        const counts = await audienceBreakdown(ctx.db, segment.list_id, segment.parsedRules);
        say(`segment "${segment.name}"`);
        say(`  rules: ${describeRules(segment.parsedRules)}`);
        say(`  members: ${counts.members}`);
        say(`  would receive an edition: ${counts.eligible}`);
        for (const [reason, n] of Object.entries(counts.excluded)) say(`  left out, ${reason}: ${n}`);
      });
    });

  segments
    .command('list')
    .description('every saved segment')
    .action(async () => {
      await withContext(async (ctx) => {
        for (const s of await listSegments(ctx.db)) say(`${s.name}  ${describeRules(segmentRulesSchema.parse(JSON.parse(s.rules)))}`);
      });
    });
}

function describeRules(rules: ReturnType<typeof segmentRulesSchema.parse>): string {
  const parts = [
    rules.topics && `follows any of ${rules.topics.join(', ')}`,
    rules.status && `status ${rules.status.join(' or ')}`,
    ...Object.entries(rules.attributes ?? {}).map(([k, v]) => `${k} = ${v}`),
    rules.signedUpFrom && `signed up from ${rules.signedUpFrom}`,
    rules.signedUpBefore && `signed up before ${rules.signedUpBefore}`,
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'every member of the list';
}

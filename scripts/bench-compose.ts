// How long composing (and DKIM-signing) one delivery's message takes, in process: nodemailer
// composing the personalized body (what the send loop did before) against the variant's template
// with the recipient's values spliced in (what it does now). Not part of `npm test`; run with
// `npx tsx scripts/bench-compose.ts [MESSAGES]`.
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { articleSchema, type ArticleInput } from '../src/articles/article.ts';
import { loadConfig } from '../src/config.ts';
import { clickUrl } from '../src/delivery/clicks.ts';
import { composeMessage } from '../src/delivery/compose.ts';
import { generateDkimKey } from '../src/delivery/dkim.ts';
import { messageTemplate, type Recipient, spliceMessage } from '../src/delivery/mime-template.ts';
import { rankArticles } from '../src/editions/select.ts';
import { parseVariantKey } from '../src/render/arrange.ts';
import { newMessageTag, personalize } from '../src/render/personalize.ts';
import { renderVariant } from '../src/render/variant.ts';

const messages = Number(process.argv[2] ?? 500);
const articles = JSON.parse(readFileSync(new URL('../data/sample/articles.json', import.meta.url), 'utf8')) as ArticleInput[];
const stories = rankArticles(articles.map((a, i) => ({ ...articleSchema.parse(a), id: i + 1 })));
const rendered = await renderVariant(
  { listName: 'Weekly AI Recap', number: 1, week: '2026-W48', dateRange: '23–29 Nov 2026', preheader: 'The week in AI.', editorNote: 'Infrastructure beat models again this week.', stories },
  '',
  { baseUrl: 'https://recap.example.com', postalAddress: 'Recap Media, Example Street 1, 10115 Berlin' },
);
const variant = { html: rendered.html, text: rendered.text, placeholder_nonce: rendered.nonce };
// With RECAP_TRACK_CLICKS every story link carries the message's tag: one more value per link to splice.
const countedLinks = await renderVariant(
  { listName: 'Weekly AI Recap', number: 1, week: '2026-W48', dateRange: '23–29 Nov 2026', preheader: 'The week in AI.', editorNote: 'Infrastructure beat models again this week.', stories },
  '',
  { baseUrl: 'https://recap.example.com', postalAddress: 'Recap Media, Example Street 1, 10115 Berlin', link: (a, v) => clickUrl('https://recap.example.com', 'secret', 1, a, parseVariantKey(v.key), v.messageTag) },
);
const counted = { html: countedLinks.html, text: countedLinks.text, placeholder_nonce: countedLinks.nonce };
const shared = { subject: 'Weekly AI Recap #1: Nvidia Beats Again as Rubin Ramp Begins', listSlug: 'weekly-ai-recap', listName: 'Weekly AI Recap' };
const { privateKeyPem } = generateDkimKey(2048);
const env = { DATABASE_URL: ':memory:', MAIL_FROM: '"Weekly AI Recap" <recap@example.com>', BASE_URL: 'https://recap.example.com' };
const configs = { unsigned: loadConfig(env), dkim: loadConfig({ ...env, DKIM_DOMAIN: 'example.com', DKIM_SELECTOR: 'recap2026', DKIM_PRIVATE_KEY: privateKeyPem }) };

function recipient(i: number): Recipient {
  const token = `dW5zdWJzY3JpYmUuMS4${i}.LcIaD5L5b-rakTVN7QoqLTnT-STLrJANLrgFVhIwz2c`;
  const unsubscribeUrl = `https://recap.example.com/unsubscribe/${token}`;
  const name = i % 3 === 0 ? `Zoë Müller ${i}` : `Reader Number ${i}`;
  return {
    recipient: { email: `reader${i}@example.org`, name },
    values: { name, email: `reader${i}@example.org`, unsubscribe_url: unsubscribeUrl, preferences_url: `https://recap.example.com/preferences/${token}`, message_tag: newMessageTag(new Date()) },
    unsubscribeUrl,
    unsubscribeToken: token,
    messageId: `<recap.1.${i}.abc@example.com>`,
    date: new Date(),
  };
}

const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
async function time(label: string, one: (i: number) => Promise<unknown> | unknown): Promise<void> {
  for (let i = 0; i < 50; i++) await one(i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < messages; i++) await one(i);
  const us = Number(process.hrtime.bigint() - start) / 1000 / messages;
  console.log(`${label.padEnd(44)} ${us.toFixed(0).padStart(6)} µs per message`);
}

for (const [kind, config] of Object.entries(configs)) {
  // Before: the PEM string handed to nodemailer for every message, as the configuration held it.
  const before = config.dkim ? { ...config, dkim: { ...config.dkim, privateKey: privateKeyPem as never } } : config;
  await time(`${kind}: nodemailer composes (before)`, async (i) => {
    const r = recipient(i);
    return (await composer.sendMail(composeMessage(before, { ...shared, ...r, body: personalize(variant, r.values) }))).message;
  });
  if (config.dkim) {
    await time(`${kind}: nodemailer composes, KeyObject`, async (i) => {
      const r = recipient(i);
      return (await composer.sendMail(composeMessage(config, { ...shared, ...r, body: personalize(variant, r.values) }))).message;
    });
  }
  const template = await messageTemplate(config, variant, shared);
  await time(`${kind}: template spliced (after)`, (i) => spliceMessage(template, recipient(i)));
  const countedTemplate = await messageTemplate(config, counted, shared);
  await time(`${kind}: template spliced, counted links`, (i) => spliceMessage(countedTemplate, recipient(i)));
}

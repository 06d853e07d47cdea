// The one-off emails: HTML from the React Email templates, the text part written alongside.
import { createElement } from 'react';
import { ConfirmSubscription, type ConfirmSubscriptionProps } from '../../emails/confirm-subscription.tsx';
import { Welcome, type WelcomeProps } from '../../emails/welcome.tsx';
import { EditorReview, type EditorReviewProps } from '../../emails/editor-review.tsx';
import { headerSafe } from '../plain-text.ts';
import { renderEmail } from './email-html.ts';
import { wrap } from './text.ts';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export async function renderConfirmation(props: Required<ConfirmSubscriptionProps>): Promise<RenderedEmail> {
  const topics = props.topics.length > 0 ? `, leading with ${props.topics.join(', ')}` : '';
  const text = [
    wrap(`Hi ${props.name || 'there'}, someone (hopefully you) asked to receive ${props.listName} at this address${topics}. Please confirm that it was you:`),
    '',
    props.confirmUrl,
    '',
    wrap(`The link works for ${props.validFor}. If you did not ask for this, ignore this email: you will not be subscribed and will hear nothing more from us.`),
    '',
    '-- ',
    props.postalAddress,
    '',
  ].join('\n');
  return { subject: `Confirm your subscription to ${props.listName}`, html: await renderEmail(createElement(ConfirmSubscription, props)), text };
}

export async function renderWelcome(props: Required<WelcomeProps>): Promise<RenderedEmail> {
  const text = [
    wrap(`Hi ${props.name || 'there'}, you are subscribed. Every Monday you will get the week's most important AI stories, with a 30-second TL;DR for each.`),
    '',
    `Archive: ${props.archiveUrl}`,
    `Your preferences: ${props.preferencesUrl}`,
    '',
    '-- ',
    props.postalAddress,
    '',
  ].join('\n');
  return { subject: `Welcome to ${props.listName}`, html: await renderEmail(createElement(Welcome, props)), text };
}

export async function renderEditorReview(given: Required<EditorReviewProps>): Promise<RenderedEmail> {
  // The subject and story titles are stored text: one plain line each, in the HTML, text and Subject alike.
  const props = { ...given, subject: headerSafe(given.subject), stories: given.stories.map(headerSafe) };
  const lines = props.skippedBecause
    ? [wrap(`Nothing was sent this week (${props.week}): ${props.skippedBecause}.`), '', `Desk: ${props.deskUrl}`]
    : [
        props.subject,
        '',
        ...props.stories.map((t, i) => wrap(`${i + 1}. ${t}`, '   ')),
        '',
        `Review and approve: ${props.deskUrl}`,
        ...(props.deadline ? ['', wrap(`Deadline: ${props.deadline}.`)] : []),
      ];
  return {
    subject: props.skippedBecause ? `[Recap] No edition for ${props.week}` : `[Recap] ${props.week} is ready for review: ${props.subject}`,
    html: await renderEmail(createElement(EditorReview, props)),
    text: `${[...lines, '', '-- ', props.postalAddress].join('\n')}\n`,
  };
}

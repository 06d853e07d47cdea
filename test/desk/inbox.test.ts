// How a subject and preheader look in an inbox list: counted and cut as readers see characters.
import { describe, expect, it } from 'vitest';
import { inboxView, SHOWN, truncated } from '../../src/desk/inbox.ts';

describe('the inbox view', () => {
  it('counts an emoji or an accented letter as one character, and never cuts one in half', () => {
    const subject = `${'é'.repeat(33)}👩‍💻👩‍💻 and more`;
    const view = inboxView(subject, 'A line');
    expect(view.subjectLength).toBe(33 + 2 + ' and more'.length);
    expect(view.phone.subject).toBe(`${'é'.repeat(33)}👩‍💻…`);
    expect([...new Intl.Segmenter().segment(view.phone.subject)]).toHaveLength(SHOWN.phoneSubject);
  });

  it('leaves a short subject whole and gives no advice', () => {
    expect(inboxView('Chips got political', 'Export rules, HBM4 and a pledge')).toMatchObject({ phone: { subject: 'Chips got political' }, desktop: { subject: 'Chips got political' }, advice: [] });
  });

  it('says when the preheader is missing or only repeats the subject', () => {
    expect(inboxView('Chips', '').advice).toEqual(['No preheader: inboxes then show the first text of the email instead.']);
    expect(inboxView('Chips', 'chips and more').advice).toEqual(['The preheader repeats the subject: let it add something.']);
  });

  it('gives the desktop preheader what the subject leaves of the line', () => {
    const view = inboxView('x'.repeat(60), 'y'.repeat(100));
    expect(view.desktop.preheader).toBe(truncated('y'.repeat(100), SHOWN.desktopLine - 60));
  });
});

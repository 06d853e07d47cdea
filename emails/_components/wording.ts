// Sentences of the digest written once for the brief's HTML and the text part (the full digest's
// HTML has them in its JSX, whose bytes stay as they are).

/** "Hi Ada, here are the 12 stories that mattered in AI this week[, leading with what you follow: …]." */
export function introLine(greetingName: string, storyCount: number, leadTopics: string[]): string {
  const leading = leadTopics.length > 0 ? `, leading with what you follow: ${leadTopics.join(', ')}` : '';
  return `Hi ${greetingName}, here ${storyCount === 1 ? 'is the story' : `are the ${storyCount} stories`} that mattered in AI this week${leading}.`;
}

/** The brief's pointer to the full edition, counting the stories it left out; the link follows. */
export function fullEditionLine(omitted: number): string {
  const more = omitted === 0 ? 'The' : `${omitted === 1 ? 'One more story' : `${omitted} more stories`} and the`;
  return `${more} full analysis of every story:`;
}

export function receivingLine(recipientEmail: string, listName: string): string {
  return `You are receiving this email because ${recipientEmail} subscribed to ${listName}. Unsubscribing takes one click and stops every future edition.`;
}

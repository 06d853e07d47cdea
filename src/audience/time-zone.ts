// A reader's time zone, for local send time (RECAP_LOCAL_SEND_TIME, src/delivery/waves.ts): an
// IANA name, checked with luxon as config.ts checks RECAP_TZ and stored in its canonical spelling
// ("europe/berlin" → "Europe/Berlin"). Empty is none: the list's zone.
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { headerSafe } from './email.ts';

export const TIME_ZONE_ERROR = 'is not an IANA time zone such as Europe/Berlin';

function canonical(zone: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
}

export const timeZoneSchema = z.string().transform((raw, ctx) => {
  const zone = raw.trim();
  if (zone === '') return null;
  if (!IANAZone.isValidZone(zone)) {
    ctx.addIssue({ code: 'custom', message: `"${headerSafe(zone).slice(0, 60)}" ${TIME_ZONE_ERROR}` });
    return z.NEVER;
  }
  return canonical(zone);
});

/** The zones a reader can choose from, as the runtime knows them. */
export function timeZoneChoices(): string[] {
  const zones = Intl.supportedValuesOf('timeZone');
  return zones.includes('UTC') ? zones : [...zones, 'UTC'].sort();
}

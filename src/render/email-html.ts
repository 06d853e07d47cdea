// Every email's HTML comes from here: React Email's render, then the Outlook-only markup put in place.
import { render } from '@react-email/components';
import type { ReactElement } from 'react';
import { unwrapMso } from '../../emails/_components/mso.tsx';

export async function renderEmail(element: ReactElement): Promise<string> {
  return unwrapMso(await render(element));
}

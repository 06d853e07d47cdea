// Where tests leave files for people to look at (screenshots): CI_OUTPUT_DIR when CI sets it,
// var/ci-output otherwise.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function outputDir(sub: string): string {
  const dir = join(process.env.CI_OUTPUT_DIR ?? join(import.meta.dirname, '../../var/ci-output'), sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}

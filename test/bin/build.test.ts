// bin/recap.js runs the build only while it is as new as every source: an edited checkout must never
// run stale code, and a checkout without a build runs the sources through tsx.
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshBuild } from '../../bin/build.js';
import { tempDir } from '../helpers/context.ts';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A checkout with a source file and a build stamped at `builtAt` (seconds). */
function checkout(builtAt: number | null): string {
  root = tempDir('recap-build-');
  for (const dir of ['src/cli', 'db', 'emails', 'bench']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{}');
  writeFileSync(join(root, 'src/cli/main.ts'), 'export {};');
  for (const path of ['src/cli/main.ts', 'src/cli', 'src', 'db', 'emails', 'bench', 'package.json']) utimesSync(join(root, path), 1000, 1000);
  if (builtAt !== null) {
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist/.built'), '');
    utimesSync(join(root, 'dist/.built'), builtAt, builtAt);
  }
  return root;
}

describe('the build bin/recap.js runs', () => {
  it('is used while no source is newer than its stamp', () => {
    expect(freshBuild(checkout(2000))).toBe(join(root, 'dist'));
  });

  it('is not there: the sources run', () => {
    expect(freshBuild(checkout(null))).toBeNull();
  });

  it('is stale once a source file changes, or one is added or removed (its folder changes)', () => {
    checkout(2000);
    utimesSync(join(root, 'src/cli/main.ts'), 3000, 3000);
    expect(freshBuild(root)).toBeNull();
    checkout(2000);
    utimesSync(join(root, 'src/cli'), 3000, 3000);
    expect(freshBuild(root)).toBeNull();
  });

  it('is stale when package.json changed (dependencies), but not for other files in the folders', () => {
    checkout(2000);
    writeFileSync(join(root, 'bench/results.json'), '{}');
    utimesSync(join(root, 'bench/results.json'), 3000, 3000);
    utimesSync(join(root, 'bench'), 1000, 1000);
    expect(freshBuild(root)).toBe(join(root, 'dist'));
    utimesSync(join(root, 'package.json'), 3000, 3000);
    expect(freshBuild(root)).toBeNull();
  });
});

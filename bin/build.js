// Where the build of the TypeScript sources is (`npm run build` writes dist/), when it can be used:
// it exists and no source file is newer than it. Otherwise callers run the sources through tsx, so
// an edited checkout never runs stale code. Plain JavaScript: it runs before tsx is loaded.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What the build is made from: the TypeScript under these folders, and these files. */
const FOLDERS = ['src', 'db', 'emails', 'bench'];
const FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'data/sample/articles.json'];

/** The newest change to the folder's TypeScript (a file added, changed or removed). */
function newest(folder) {
  return readdirSync(folder, { withFileTypes: true }).reduce((m, entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return Math.max(m, newest(path));
    return /\.tsx?$/.test(entry.name) ? Math.max(m, statSync(path).mtimeMs) : m;
  }, statSync(folder).mtimeMs);
}

/** The build's folder (dist/), or null when there is none or a source file changed since it was made. */
export function freshBuild(root = ROOT) {
  const built = statSync(join(root, 'dist', '.built'), { throwIfNoEntry: false });
  if (!built) return null;
  const folders = FOLDERS.map((f) => join(root, f)).filter((f) => statSync(f, { throwIfNoEntry: false }));
  const changed = Math.max(...folders.map(newest), ...FILES.map((f) => statSync(join(root, f), { throwIfNoEntry: false })?.mtimeMs ?? 0));
  return changed <= built.mtimeMs ? join(root, 'dist') : null;
}

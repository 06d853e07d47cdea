#!/usr/bin/env node
// Runs the CLI: from the build (dist/, `npm run build`) when it is up to date with the sources, else
// the TypeScript sources through tsx, so `npx recap …` works in a checkout without a build step. The
// build starts in a fraction of the time and memory (no compiler loaded, in this process or in the
// send's worker threads). The tsconfig is named explicitly: run from another folder, tsx would not
// find it (and JSX with it).
import { freshBuild } from './build.js';

// React renders its slow development build unless told otherwise (~30 ms more per variant); set
// before anything imports React. An explicit NODE_ENV is kept.
process.env.NODE_ENV ??= 'production';

const build = freshBuild();
if (build) {
  await import(new URL(`file://${build}/src/cli/main.js`).href);
} else {
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: new URL('../tsconfig.json', import.meta.url).pathname });
  await import('../src/cli/main.ts');
}

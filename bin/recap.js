#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx recap …` works in a checkout without a build step.
// The tsconfig is named explicitly: run from another folder, tsx would not find it (and JSX with it).
import { register } from 'tsx/esm/api';

// React renders its slow development build unless told otherwise (~30 ms more per variant); set
// before anything imports React. An explicit NODE_ENV is kept.
process.env.NODE_ENV ??= 'production';

register({ tsconfig: new URL('../tsconfig.json', import.meta.url).pathname });
await import('../src/cli/main.ts');

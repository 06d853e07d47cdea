#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx recap …` works in a checkout without a build step.
// The tsconfig is named explicitly: run from another folder, tsx would not find it (and JSX with it).
import { register } from 'tsx/esm/api';

register({ tsconfig: new URL('../tsconfig.json', import.meta.url).pathname });
await import('../src/cli/main.ts');

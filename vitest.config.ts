import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Real SQLite files, real SMTP servers and child processes: give them room on a 2-core machine.
    // A CLI start through tsx takes ~3.5 s on a quiet machine and over 15 s on a busy one (seen in
    // CI beside a benchmark), and some tests start several: a limit for a hang, not for speed.
    testTimeout: 120_000,
    // Two files at a time even on 2 cores (vitest's default would be one): most tests wait on child
    // processes, sockets and SQLite, so the suite takes ~6 instead of ~9 minutes here.
    maxWorkers: 2,
    hookTimeout: 120_000,
  },
});

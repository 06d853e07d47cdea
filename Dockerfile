# Recap in a container: `recap serve` by default; compose.yaml also runs `recap schedule` from it.
# The SQLite file lives on the volume at /data (DATABASE_URL), written by the non-root user `recap`.
FROM node:20-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first (a layer that changes only with the lockfile). better-sqlite3 comes as a
# prebuilt binary for linux-x64/arm64; the dev dependencies are needed for the build below.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund --include=dev

# The sources, compiled to dist/ by `npm run build`; bin/recap.js runs the build when it is newer
# than every source, which it is here (made after the copy). Then the dev dependencies go.
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund && npm cache clean --force

RUN groupadd --system recap && useradd --system --gid recap --home-dir /app --shell /usr/sbin/nologin recap \
  && mkdir -p /data && chown recap:recap /data
USER recap

ENV DATABASE_URL=/data/recap.db \
    OUTBOX_DIR=/data/outbox \
    PORT=3000
VOLUME ["/data"]
EXPOSE 3000

# /readyz answers 503 while the database is unreachable or unmigrated. (The schedule service in
# compose.yaml, which has no port, checks `recap health --daemon` instead.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node is PID 1 and gets SIGTERM itself (no npm, no shell in between): a send stops cleanly.
ENTRYPOINT ["node", "bin/recap.js"]
CMD ["serve", "--host", "0.0.0.0"]

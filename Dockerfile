# voice-otp on Node 20: TypeScript compiled in a build stage, run as plain JavaScript.
#
#   docker build -t voice-otp .
#   docker run --env-file .env -p 3000:3000 -v voice-otp-data:/data voice-otp
#
# NODE_ENV=production is baked in: the service refuses to start without API_KEYS,
# SECRET_KEY, an https PUBLIC_BASE_URL and real carrier credentials (see README.md).
#
# test/docker-runtime.test.ts interprets this file (no Docker engine is needed):
# it replays each stage in a temporary directory and starts the runtime stage's CMD.
# It knows a small set of RUN commands and fails on any other, so a new one needs a
# matching step there.

# ---- build: all dependencies, then tsc → dist/ ----------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig*.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only (no tsx, typescript, vitest, drizzle-kit)
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime -------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app

# The application files stay owned by root: the service user can read them but not
# change them. package.json carries "type": "module", which dist/*.js need. The
# migrations in drizzle/ are found next to dist/ and applied by the service itself
# at startup (under an advisory lock on PostgreSQL), so no separate migrate step runs.
# The /demo and /admin pages' HTML, scripts and styles in pages/ are found next to dist/ too.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY drizzle ./drizzle
COPY pages ./pages
COPY package.json ./

# The embedded PGlite database (when DATABASE_URL is unset) lives in DATA_DIR, the
# only place the service writes. One running container per volume: the service
# holds a lock file there.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]

USER node
EXPOSE 3000

# /healthz answers while the process serves HTTP; /readyz also checks the database.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# One node process as PID 1 (no npm wrapper in between), so SIGTERM reaches the
# service's own graceful shutdown. Migrations run inside this process before it listens.
# The heap is sized to the service: its live data stays under ~60 MB with hundreds of
# calls in flight, but V8's defaults (scaled to the host's memory) let garbage grow the
# heap past 250 MB before collecting it. The young generation is the CPU's side of the
# trade: at 4 MB it was collected so often that requests in flight were promoted and
# garbage collection took a fifth of a validation's CPU; 8 MB keeps the peak RSS near
# 125 MB (12 MB reached 149, bench/findings.md). Raise --max-old-space-size for much larger surges.
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=192", "dist/server.js"]

# voice-otp: the service, run from its TypeScript sources with tsx (a runtime
# dependency in package.json), on Node 20.
#
#   docker build -t voice-otp .
#   docker run -p 3000:3000 --env-file .env -v voice-otp-data:/data voice-otp
#
# NODE_ENV=production is baked in: the service refuses to start without API_KEYS,
# SECRET_KEY, PUBLIC_BASE_URL and real carrier credentials (see README.md).

# ---- dependencies: production packages only (tsx is one of them) -------------
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime -----------------------------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app

COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json package-lock.json tsconfig.json ./
COPY --chown=node:node drizzle ./drizzle
COPY --chown=node:node src ./src

# The embedded PGlite database (when DATABASE_URL is unset) lives in DATA_DIR.
# One running container per volume: the service holds a lock file there.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]

USER node
EXPOSE 3000

# /healthz answers while the process serves HTTP; /readyz also checks the database.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# One node process as PID 1 (no npm or tsx CLI wrapper in between), so SIGTERM
# reaches the service's own graceful shutdown.
CMD ["node", "--import", "tsx", "src/server.ts"]

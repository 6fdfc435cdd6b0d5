# syntax=docker/dockerfile:1
# One image for every process: the api (the default command), the worker
# (`node workers/main.ts`) and the SMTP receiver (`node src/mail-in/main.ts`). Node 24 runs the TypeScript sources directly by
# stripping types, so there is no build step: the first stage installs the
# production dependencies, the final stage copies them next to the sources.

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: the `node` dev dependency that pins Node 24 for
# npm scripts is not needed, the base image is Node 24. argon2 ships prebuilt
# binaries for linux x64 and arm64, so no compiler is needed here. The lock file
# holds every platform's optional packages (.ci/run checks it), so `npm ci` takes
# it as it is.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
# Memory (README, "Memory"): 8 MiB semi-spaces (young generation) and a 128 MiB old
# generation (the api's live heap is ~60 MiB under load; V8 would otherwise let
# garbage grow it to several times that), and glibc's mmap threshold fixed at
# its 128 KiB default so that argon2's 19 MiB buffers go back to the system
# after each hash instead of staying in per-thread arenas.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=128" \
    MALLOC_MMAP_THRESHOLD_=131072 \
    HOST=0.0.0.0 \
    PORT=3000 \
    WORKER_PORT=3001
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --chown=root:root src ./src
COPY --chown=root:root workers ./workers
COPY --chown=root:root drizzle ./drizzle
# The code is owned by root and read-only to the process; the unprivileged
# `node` user of the base image (uid 1000) runs it. Local mode is refused in
# production, so the one thing written is files with STORAGE_DRIVER=local: to
# the folder below, which the api and every worker must share (a volume, as in
# docker-compose.yml), or use STORAGE_DRIVER=s3.
ENV STORAGE_DIR=/var/lib/deskpilot/files
RUN mkdir -p /var/lib/deskpilot/files && chown node:node /var/lib/deskpilot/files
USER node
EXPOSE 3000 3001 2525
# Liveness of the api; the worker's service overrides it with WORKER_PORT.
# No curl in slim images: Node's fetch does the probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# `node` directly (not npm) so SIGTERM reaches the process and it can drain.
CMD ["node", "src/server.ts"]

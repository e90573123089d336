# syntax=docker/dockerfile:1
# One image for every acebatch process: Node 24 runs the TypeScript entry points directly (type
# stripping), so there is no build step. Pick the process with the command:
#   api        node --max-semi-space-size=8 --heap-growing-percent=50 services/api/src/main.ts (default;
#              the flags keep its memory low, see README "Memory")
#   worker     env MALLOC_ARENA_MAX=2 node --max-semi-space-size=1 --heap-growing-percent=50
#              --no-concurrent-array-buffer-sweeping services/worker/src/main.ts (one line; the
#              flags and the variable keep its memory low and flat, see README "Memory")
#   simulator  node services/simulator/src/main.ts
#   all-in-one node services/standalone/src/main.ts
#   cli        node packages/cli/src/main.ts <args>

ARG NODE_IMAGE=node:24-slim

# ---- deps: the pnpm store, fetched from the lockfile alone (cached until the lockfile changes) ----
FROM ${NODE_IMAGE} AS deps
ENV CI=true
# pnpm from the npm registry, pinned like package.json's packageManager (not corepack).
RUN npm i -g pnpm@10.34.9
WORKDIR /app
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch --store-dir /pnpm/store

# ---- build: the workspace with its node_modules linked from that store ----
FROM deps AS build
COPY . .
RUN pnpm install --offline --frozen-lockfile --prod=false --store-dir /pnpm/store

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
# ffmpeg for audio finishing (loudness, loops, mp3/ogg renditions); tini-like init comes from
# compose's `init: true`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "services/api/src/main.ts"]

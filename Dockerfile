# strangler: the Slack chatops bot. Build: docker build -t strangler .
# Run:   docker run -p 3000:3000 -e SLACK_BOT_TOKEN=… -e SLACK_SIGNING_SECRET=… -e REDIS_URL=… \
#          -v $PWD/strangler.yml:/app/strangler.yml:ro strangler [web|worker]

# ---- build: bundle src/ into dist/ with the dev dependencies (esbuild; scripts/build.mjs says why).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
RUN npm run build

# ---- runtime: dist/, plus the native canvas the bundle cannot carry (see below).
FROM node:22-bookworm-slim
# tini as PID 1 forwards SIGTERM/SIGINT to node (which finishes work in flight, then exits) and
# reaps zombie processes. Node as PID 1 would ignore every signal it has no handler for and reap
# nothing; tini is the plain, well-known answer.
# fonts-dejavu-core: the progress report's chart draws its text in DejaVu Sans.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
# package.json says `"type": "module"`, which is how Node knows dist/*.js are ES modules.
COPY package.json ./
COPY --from=build /app/dist ./dist
# The one package the bundle cannot carry: @napi-rs/canvas is a native addon (its .node binary is
# the platform package beside it), loaded only when a progress report is drawn.
COPY --from=build /app/node_modules/@napi-rs ./node_modules/@napi-rs
# The image's files stay owned by root and read-only to the app (the Deployment also mounts the
# root filesystem read-only). Numeric uid:gid of the image's `node` user, so Kubernetes can check
# runAsNonRoot without a runAsUser.
USER 1000:1000
EXPOSE 3000
# No HEALTHCHECK: Kubernetes probes GET /healthz and /readyz. Arguments pick the role.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/main.js"]

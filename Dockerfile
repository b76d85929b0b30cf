# One image, three roles: `serve`, `work` and the admin CLI. TypeScript runs directly on
# Node 24's type stripping, so nothing is compiled: the first stage installs the production
# dependencies, the second is Debian slim with the Node binary alone (no npm, no C headers)
# beside those dependencies and the sources. docs/docker.md says how big it is.
# No `# syntax=` line: the build needs no frontend image from a registry, and it builds the same
# with BuildKit and with the classic builder (DOCKER_BUILDKIT=0).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# msgpackr-extract's native build is optional (bullmq falls back to pure JS): no install scripts.
# TypeScript comes along only as an optional peer of valibot (@bull-board/api's validation) and
# nothing loads it at run time: 30 MB less.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -rf node_modules/typescript node_modules/@typescript node_modules/.bin/tsc \
  && npm cache clean --force

# The node binary of node:24-bookworm-slim runs as is on the same Debian.
FROM debian:bookworm-slim AS runtime
ENV NODE_ENV=production \
    HTTP_PORT=8080
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 1000 node \
  && useradd --uid 1000 --gid node --shell /usr/sbin/nologin --create-home node \
  && node --version
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root src ./src
COPY --chown=root:root workers ./workers
COPY --chown=root:root config ./config
# The code is root-owned and read-only for the process, which runs as the unprivileged `node` user.
USER node
EXPOSE 8080
# The same check, with the same timings, as the compose file's `api` service (meaningful for
# `serve`; compose gives the worker and the sandbox checks of their own).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=10 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The compose test removes the images a rebuild left untagged by this label.
LABEL org.opencontainers.image.title=lastcall
ENTRYPOINT ["node", "bin/lastcall.js"]
CMD ["serve"]

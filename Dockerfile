# syntax=docker/dockerfile:1
# One image, three roles: `serve`, `work` and the admin CLI. TypeScript runs directly on
# Node 24's type stripping, so there is no build stage to ship: the first stage only installs
# production dependencies.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# msgpackr-extract's native build is optional (bullmq falls back to pure JS): no install scripts.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    HTTP_PORT=8080
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
# Meaningful for `serve`; compose gives the worker a check of its own.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/lastcall.js"]
CMD ["serve"]

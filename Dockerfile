# syntax=docker/dockerfile:1
# One image recipe for every runnable part: the gateway, credentials and submitter services and the
# STS simulator. Node runs the TypeScript sources directly (type stripping), so there is no compile
# step: the build stage installs only the production dependencies of the chosen part and the
# workspace packages it uses. Build from the repository root, e.g.:
#   docker build --build-arg PACKAGE=@sts/gateway --build-arg PART_DIR=services/gateway \
#     --build-arg PORT=8080 --build-arg NODE_IMAGE=node:26-bookworm-slim .
# docker-compose.yml builds each part this way. Tests and test support never enter the image
# (.dockerignore).
ARG NODE_IMAGE=node:26-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG PACKAGE
WORKDIR /app
RUN npm install --global --no-fund --no-audit pnpm@10.34.9
COPY . .
# Only the part and the workspace packages it needs in production stay: the other services, the
# testkit and (but for the simulator itself) the simulator are removed before the runtime stage.
RUN test -n "${PACKAGE}" && pnpm install --frozen-lockfile --prod --filter "${PACKAGE}..." \
  && keep="$(pnpm --filter-prod "${PACKAGE}..." exec pwd)" \
  && for dir in packages/* services/*; do \
       printf '%s\n' "$keep" | grep -qx "/app/$dir" || rm -rf "$dir"; \
     done

FROM ${NODE_IMAGE} AS runtime
ARG PART_DIR
ARG PORT
ENV NODE_ENV=production HOST=0.0.0.0 PORT=${PORT} PART_MAIN=${PART_DIR}/src/main.ts
WORKDIR /app
COPY --from=build /app/package.json /app/pnpm-workspace.yaml ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages ./packages
COPY --from=build /app/services ./services
# A place for a part's own files (the simulator's key pair and state) that a volume can take over.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE ${PORT}
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["sh", "-c", "exec node \"$PART_MAIN\""]

# syntax=docker/dockerfile:1
#
# The shop's web server: the Vite build of frontend/ served by an unprivileged nginx with
# frontend/nginx/default.conf.template (the official image's entrypoint renders
# /etc/nginx/templates/*.template into /etc/nginx/conf.d/ at start), which also proxies
# /api/ to admin-api and /flask/ to main-api. Build from the repository's root:
#
#   docker build -f deploy/web.Dockerfile -t shop/web:dev .
#
# DIST=prebuilt takes frontend/dist/ from the context (built on the host: the compose proof)
# instead of the node build stage; the web stage is the same either way.

ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim
ARG NGINX_IMAGE=docker.io/nginxinc/nginx-unprivileged:1.27-bookworm
ARG DIST=build

# ---- build: npm ci (cached until the lock file changes), typecheck and vite build --------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
RUN npm run build

# ---- prebuilt: frontend/dist/ built outside -----------------------------------------------
FROM scratch AS prebuilt
COPY frontend/dist/ /app/dist/

FROM ${DIST} AS dist

# ---- web: nginx, the template, the app ----------------------------------------------------
FROM ${NGINX_IMAGE} AS web
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="shop-web" \
      org.opencontainers.image.description="The shop's web UI and the nginx in front of its two APIs" \
      org.opencontainers.image.source="https://example.com/shop" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY frontend/nginx/default.conf.template /etc/nginx/templates/default.conf.template
COPY --from=dist /app/dist/ /usr/share/nginx/html/
COPY deploy/healthcheck.sh /usr/local/bin/shop-healthcheck
# The entrypoint renders the template into /tmp (NGINX_ENVSUBST_OUTPUT_DIR), the only
# writable place with a read-only root, and nginx.conf's include finds it through this link:
# a tmpfs over /etc/nginx/conf.d would do too under Docker, but podman mounts it root-owned.
USER root
RUN ln -sf /tmp/default.conf /etc/nginx/conf.d/default.conf
# The template's variables; the entrypoint substitutes these and nothing else (nginx's own
# $uri, $host… stay). The APIs are compose's service names.
ENV NGINX_PORT=8080 \
    STATIC_ROOT=/usr/share/nginx/html \
    ADMIN_API=admin-api:8000 \
    MAIN_API=main-api:5000 \
    NGINX_ENVSUBST_FILTER="^(NGINX_PORT|STATIC_ROOT|ADMIN_API|MAIN_API)$" \
    NGINX_ENVSUBST_OUTPUT_DIR=/tmp
# The base image's unprivileged user (nginx, uid 101). Writable at run time: /tmp only (the
# rendered template, the pid file, temporary files); with a read-only root, mount a tmpfs
# there (docker-compose.yml does).
USER 101
EXPOSE 8080
# SIGQUIT is nginx's graceful stop (finish the requests in flight, then exit), as the
# official image sets it; SIGTERM would drop them.
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["shop-healthcheck", "8080", "/index.html"]

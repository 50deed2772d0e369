# syntax=docker/dockerfile:1
#
# The shop's Rust services, one image per service with both of its binaries:
#   --target admin  ->  admin-api + admin-consumer   (catalogue API and its like consumer)
#   --target main   ->  main-api  + main-consumer    (shop API and its product consumer)
# A service's API and consumer share one library and one database schema, so they are
# released together. Build from the repository's root (the context):
#
#   docker build -f deploy/services.Dockerfile --target admin -t shop/admin:dev .
#
# Stages: skeleton (the workspace's manifests with empty sources) -> builder (dependencies
# compiled from the skeleton, cached until a Cargo.toml or Cargo.lock changes; then the real
# sources, release profile, --locked) -> runtime (debian slim, ca-certificates, a non-root
# user, nothing else) -> admin / main (runtime + the binaries).
#
# BINARIES=prebuilt takes the binaries from .prebuilt/bin/ in the context instead of the
# builder stage (scripts/compose-proof.sh, where no Rust image can be pulled): the runtime
# stage and the admin/main stages are the same ones either way.

ARG RUST_IMAGE=docker.io/library/rust:1.95-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim
ARG BINARIES=builder

# ---- skeleton: manifests and empty targets, so that dependencies build without our code --
FROM ${RUST_IMAGE} AS skeleton
WORKDIR /src
COPY crates crates
# Keep only each crate's Cargo.toml; give it an empty lib.rs and an empty main() for every
# [[bin]] path it declares. The layer that copies this stays cached until a manifest changes.
RUN find crates -type f ! -name Cargo.toml -delete \
 && find crates -mindepth 1 -type d -empty -delete \
 && for manifest in crates/*/Cargo.toml; do \
      dir=${manifest%/Cargo.toml}; mkdir -p "$dir/src"; : > "$dir/src/lib.rs"; \
      sed -n 's/^path *= *"\(src\/bin\/[^"]*\)"/\1/p' "$manifest" | while read -r bin; do \
        mkdir -p "$dir/$(dirname "$bin")"; echo 'fn main() {}' > "$dir/$bin"; \
      done; \
    done

# ---- builder: dependencies first (cached), then the workspace's code ----------------------
FROM ${RUST_IMAGE} AS builder
WORKDIR /src
ENV CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0
COPY Cargo.toml Cargo.lock ./
COPY --from=skeleton /src/crates crates
RUN cargo build --release --locked -p admin-svc -p main-svc -p shop-repair --bins
COPY crates crates
# The real sources may be older than the skeleton's outputs: touch them so cargo rebuilds.
RUN find crates -name '*.rs' -exec touch {} + \
 && cargo build --release --locked -p admin-svc -p main-svc -p shop-repair --bins \
 && mkdir -p /out \
 && for bin in admin-api admin-consumer main-api main-consumer shop-repair; do \
      strip --strip-debug -o "/out/$bin" "target/release/$bin"; \
    done

# ---- prebuilt: binaries built outside (see BINARIES above) --------------------------------
FROM scratch AS prebuilt
COPY .prebuilt/bin/ /out/

FROM ${BINARIES} AS binaries

# ---- runtime: what every service image is made of -----------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="shop" \
      org.opencontainers.image.description="The shop's Rust services" \
      org.opencontainers.image.source="https://example.com/shop" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
# ca-certificates: the system's CAs, for amqps:// and the AWS SDK. Nothing else: no shell
# tool is added beyond the base's, no compiler, no package lists.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
      /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 10001 shop \
 && useradd --system --uid 10001 --gid shop --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin shop
COPY --chmod=0755 deploy/healthcheck.sh /usr/local/bin/shop-healthcheck
ENV RUST_LOG=info,sqlx=warn,lapin=warn \
    BIND_ADDRESS=0.0.0.0
# Nothing is written to the filesystem: the root can be read-only (compose: read_only: true).
USER 10001:10001
WORKDIR /
STOPSIGNAL SIGTERM

# ---- the two service images ---------------------------------------------------------------
FROM runtime AS admin
LABEL org.opencontainers.image.title="shop-admin" \
      org.opencontainers.image.description="admin-svc: the catalogue API (admin-api) and its like consumer (admin-consumer)"
COPY --from=binaries /out/admin-api /out/admin-consumer /usr/local/bin/
EXPOSE 8000 8001
# The consumer's container overrides both (compose: command, healthcheck).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["shop-healthcheck", "8000", "/ready"]
CMD ["admin-api", "serve"]

FROM runtime AS main
LABEL org.opencontainers.image.title="shop-main" \
      org.opencontainers.image.description="main-svc: the shop API (main-api) and its product consumer (main-consumer); shop-repair (drift check, repair, drift watcher)"
COPY --from=binaries /out/main-api /out/main-consumer /out/shop-repair /usr/local/bin/
EXPOSE 5000 5001
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["shop-healthcheck", "5000", "/ready"]
CMD ["main-api", "serve"]

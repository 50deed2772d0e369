# Proof-only stand-in for jaegertracing/all-in-one, which no registry here can give: otlp-sink
# (crates/xtask: testkit's OTLP receiver, the one the trace tests use, counting spans by
# service) on Jaeger's ports, with wget for the same healthcheck. Not Jaeger: no trace store,
# no UI. The context is a folder holding the binary (scripts/compose-proof.sh makes it).
ARG BASE_IMAGE=localhost/shop-proof/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wget \
 && rm -rf /var/lib/apt/lists/*
COPY otlp-sink /usr/local/bin/otlp-sink
USER nobody
# OTLP/HTTP, the admin port's health check (GET /), the UI's port (GET /stats: spans by service).
EXPOSE 4318 14269 16686
STOPSIGNAL SIGTERM
ENTRYPOINT ["otlp-sink", "--otlp", "0.0.0.0:4318", "--health", "0.0.0.0:14269", "--stats", "0.0.0.0:16686"]

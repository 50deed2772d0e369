# Proof-only stand-in for prom/mysqld-exporter: Debian's prometheus-mysqld-exporter on the
# locally made Debian base, as /bin/mysqld_exporter, user nobody; wget for the healthcheck.
ARG BASE_IMAGE=localhost/shop-proof/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus-mysqld-exporter wget \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/bin/prometheus-mysqld-exporter /usr/local/bin/mysqld_exporter \
 && ln -s /usr/bin/prometheus-mysqld-exporter /bin/mysqld_exporter
USER nobody
EXPOSE 9104
ENTRYPOINT ["/bin/mysqld_exporter"]

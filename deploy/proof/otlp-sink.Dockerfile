# Proof-only stand-in for jaegertracing/all-in-one, which no registry here can give: an
# OTLP/HTTP sink (otlp-sink.py) on Jaeger's ports, with wget for the same healthcheck.
ARG BASE_IMAGE=localhost/shop-proof/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 wget \
 && rm -rf /var/lib/apt/lists/*
COPY otlp-sink.py /usr/local/lib/otlp-sink.py
USER nobody
EXPOSE 4318 14269 16686
STOPSIGNAL SIGTERM
ENTRYPOINT ["python3", "-u", "/usr/local/lib/otlp-sink.py"]

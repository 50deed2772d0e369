# Proof-only stand-in for nginxinc/nginx-unprivileged: Debian's nginx-light on the locally
# made Debian base, with the official image's layout and start: user nginx (uid 101),
# listens where the rendered config says, pid and temporary files in /tmp, logs to the
# container's output, and an entrypoint that renders /etc/nginx/templates/*.template into
# /etc/nginx/conf.d/ with envsubst (NGINX_ENVSUBST_FILTER honoured) before starting nginx.
ARG BASE_IMAGE=localhost/shop-proof/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light gettext-base \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled /etc/nginx/conf.d/* \
 && groupadd --system --gid 101 nginx && useradd --system --uid 101 --gid nginx --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin nginx \
 && mkdir -p /etc/nginx/templates /var/cache/nginx /usr/share/nginx/html \
 && chown -R 101:0 /etc/nginx/conf.d /var/cache/nginx \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
COPY nginx.conf /etc/nginx/nginx.conf
COPY nginx-entrypoint.sh /docker-entrypoint.sh
USER 101
EXPOSE 8080
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]

# Proof-only stand-in for the official rabbitmq:3-management image: Debian's rabbitmq-server
# (3.10) on the locally made Debian base, honouring what docker-compose.yml uses of the
# official image: RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS, /etc/rabbitmq/enabled_plugins,
# data in /var/lib/rabbitmq, rabbitmq-diagnostics and rabbitmqadmin (python3) in the PATH.
ARG BASE_IMAGE=localhost/shop-proof/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server python3 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /etc/rabbitmq/conf.d /var/lib/rabbitmq /var/log/rabbitmq \
 && chown -R rabbitmq:rabbitmq /etc/rabbitmq/conf.d /var/lib/rabbitmq /var/log/rabbitmq \
 && printf 'loopback_users.guest = false\nlisteners.tcp.default = 5672\n' > /etc/rabbitmq/conf.d/00-container.conf
COPY rabbitmq-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV HOME=/var/lib/rabbitmq RABBITMQ_LOGS=- RABBITMQ_CONFIG_FILES=/etc/rabbitmq/conf.d
USER rabbitmq
VOLUME /var/lib/rabbitmq
EXPOSE 5672 15672 15692
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["rabbitmq-server"]

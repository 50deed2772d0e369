# Proof-only stand-in for the official mariadb image (which cannot be pulled here): Debian's
# mariadb-server on the locally made Debian base, with an entrypoint that honours what
# docker-compose.yml uses of the official image: MARIADB_ROOT_PASSWORD, the init scripts in
# /docker-entrypoint-initdb.d/ (run once, on an empty data directory, with
# docker_process_sql), healthcheck.sh --connect --innodb_initialized, port 3306.
ARG BASE_IMAGE=localhost/shop-proof/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server \
 && rm -rf /var/lib/apt/lists/* /var/lib/mysql \
 && mkdir -p /var/lib/mysql /run/mysqld /docker-entrypoint-initdb.d \
 && chown mysql:mysql /var/lib/mysql /run/mysqld \
 && printf '[mariadbd]\nbind-address = 0.0.0.0\nskip-name-resolve\n' \
      > /etc/mysql/mariadb.conf.d/99-container.cnf
COPY mariadb-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY mariadb-healthcheck.sh /usr/local/bin/healthcheck.sh
USER mysql
VOLUME /var/lib/mysql
EXPOSE 3306
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["mariadbd"]

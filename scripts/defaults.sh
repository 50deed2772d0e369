# shellcheck shell=bash
# Sourced by scripts/services.sh, so by every script: the defaults the scripts share, in one
# place. A value already in the environment wins.

# MariaDB and RabbitMQ: this machine's (installed and started when missing), or remote ones.
MARIADB_HOST=${MARIADB_HOST:-127.0.0.1}
MARIADB_PORT=${MARIADB_PORT:-3306}
RABBITMQ_HOST=${RABBITMQ_HOST:-127.0.0.1}
RABBITMQ_PORT=${RABBITMQ_PORT:-5672}

# What tests and benchmarks connect to: the server (database `mysql`: each test names its
# own) and the broker's default vhost.
DEFAULT_DATABASE_URL=mysql://root@${MARIADB_HOST}:${MARIADB_PORT}/mysql
DEFAULT_AMQP_URL=amqp://guest:guest@${RABBITMQ_HOST}:${RABBITMQ_PORT}/%2f

# The local shop's ports (scripts/run-local.sh; scripts/stack.sh sets its own).
ADMIN_PORT=${ADMIN_PORT:-8000}
ADMIN_CONSUMER_PORT=${ADMIN_CONSUMER_PORT:-8001}
MAIN_PORT=${MAIN_PORT:-5000}
MAIN_CONSUMER_PORT=${MAIN_CONSUMER_PORT:-5001}
WEB_PORT=${WEB_PORT:-8080}

# export_service_urls: DATABASE_URL and AMQP_URL for the tests and tools this script runs,
# unless already set.
export_service_urls() {
  export DATABASE_URL=${DATABASE_URL:-$DEFAULT_DATABASE_URL}
  export AMQP_URL=${AMQP_URL:-$DEFAULT_AMQP_URL}
}

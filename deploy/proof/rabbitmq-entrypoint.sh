#!/bin/bash
# The official rabbitmq image's handling of RABBITMQ_DEFAULT_USER/PASS (proof stand-in):
# a config file with the default user, read at the first boot of an empty node.
set -euo pipefail
if [ -n "${RABBITMQ_DEFAULT_USER:-}" ]; then
  printf 'default_user = %s\ndefault_pass = %s\n' "$RABBITMQ_DEFAULT_USER" "${RABBITMQ_DEFAULT_PASS:-}" \
    > /etc/rabbitmq/conf.d/10-default-user.conf
fi
exec "$@"

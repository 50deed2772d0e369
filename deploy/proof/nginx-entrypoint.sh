#!/bin/bash
# As the official nginx image's /docker-entrypoint.sh with 20-envsubst-on-templates.sh:
# every /etc/nginx/templates/X.template becomes /etc/nginx/conf.d/X, with the environment's
# variables (those matching NGINX_ENVSUBST_FILTER, when set) substituted.
set -euo pipefail
if [ "${1:-}" = nginx ]; then
  out=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
  filter=${NGINX_ENVSUBST_FILTER:-}
  mapfile -t names < <(awk "END { for (name in ENVIRON) if (name ~ /${filter}/) print name }" </dev/null)
  # shellcheck disable=SC2016 # envsubst's list of variables: a literal ${NAME} for each
  defined=$(printf '${%s} ' ${names[@]+"${names[@]}"})
  for template in /etc/nginx/templates/*.template; do
    [ -f "$template" ] || continue
    target=$out/$(basename "$template" .template)
    echo "$0: rendering $template to $target"
    envsubst "$defined" < "$template" > "$target"
  done
fi
exec "$@"

#!/usr/bin/env bash
# deploy.sh migrate|up HOST ENV_FILE REGISTRY TAG: the Jenkinsfile's deployment to one host
# (user@host, reached with ssh; Docker with the compose plugin there), in /srv/shop.
#   migrate  copies docker-compose.yml, what it mounts and the environment's .env to the host,
#            pulls REGISTRY/{admin,main,web}:TAG and applies both services' migrations
#            (`admin-api migrate`, `main-api migrate`; the databases start first if needed)
#   up       starts the release (docker compose up -d --wait) and checks both APIs through
#            the web server
set -euo pipefail
action=$1 host=$2 env_file=$3 registry=$4 tag=$5
dir=/srv/shop
remote() { ssh -o BatchMode=yes "$host" "cd $dir && export SHOP_IMAGE_PREFIX='$registry' SHOP_TAG='$tag' && $*"; }

case $action in
  migrate)
    ssh -o BatchMode=yes "$host" "mkdir -p $dir"
    tar -c docker-compose.yml deploy/mariadb deploy/rabbitmq scripts/grants.sql \
        grafana-prometheus/prometheus.yml grafana-prometheus/alerts.yml grafana-prometheus/grafana |
      ssh -o BatchMode=yes "$host" "tar -x -C $dir"
    ssh -o BatchMode=yes "$host" "umask 077 && cat > $dir/.env" < "$env_file"
    remote docker compose pull --quiet
    remote docker compose run --rm admin-api admin-api migrate
    remote docker compose run --rm main-api main-api migrate
    ;;
  up)
    remote docker compose up -d --remove-orphans --wait --wait-timeout 300
    # shellcheck disable=SC2016 # expanded by the remote shell
    remote 'port=$(sed -n "s/^WEB_PORT=//p" .env); port=${port:-8080};
      curl -fsS "http://127.0.0.1:$port/api/health" && curl -fsS "http://127.0.0.1:$port/flask/api/health"'
    ;;
  *) echo "usage: deploy.sh migrate|up HOST ENV_FILE REGISTRY TAG" >&2; exit 2 ;;
esac

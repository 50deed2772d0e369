#!/usr/bin/env bash
# build-image.sh NAME REGISTRY TAG: builds one of the shop's images (admin, main, web) with
# the full multi-stage Dockerfile and tags it REGISTRY/NAME:TAG (the Jenkinsfile's "Images").
set -euo pipefail
name=$1 registry=$2 tag=$3
case $name in
  admin | main) file=deploy/services.Dockerfile target=$name ;;
  web) file=deploy/web.Dockerfile target=web ;;
  *) echo "unknown image $name (admin, main, web)" >&2; exit 2 ;;
esac
docker build --pull -f "$file" --target "$target" \
  --build-arg "VERSION=$tag" \
  --build-arg "REVISION=$(git rev-parse HEAD)" \
  --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -t "$registry/$name:$tag" .
docker image ls "$registry/$name:$tag"

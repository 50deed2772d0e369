#!/bin/bash
# shop-healthcheck PORT PATH: exits 0 when http://127.0.0.1:PORT/PATH answers 200 within 3 s,
# else prints the answer's status line (or why there is none) and exits 1. Plain bash
# (/dev/tcp), so the runtime image needs no curl or wget.
set -u
port=${1:?usage: shop-healthcheck PORT PATH} path=${2:?usage: shop-healthcheck PORT PATH}
if ! exec 3<>"/dev/tcp/127.0.0.1/$port"; then
  echo "nothing listens on port $port"; exit 1
fi
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
if ! IFS= read -r -t 3 status <&3; then
  echo "no answer within 3 s"; exit 1
fi
case $status in
  "HTTP/1."[01]" 200"*) exit 0 ;;
esac
echo "${status%$'\r'}"
exit 1

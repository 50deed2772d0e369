#!/usr/bin/env bash
# scan-image.sh IMAGE: fails on a HIGH or CRITICAL vulnerability that has a fix, with trivy or
# grype, whichever the agent has; says so and passes when it has neither.
set -euo pipefail
image=$1
if command -v trivy >/dev/null 2>&1; then
  trivy image --exit-code 1 --severity HIGH,CRITICAL --ignore-unfixed --no-progress "$image"
elif command -v grype >/dev/null 2>&1; then
  grype "$image" --only-fixed --fail-on high
else
  echo "scan-image.sh: neither trivy nor grype on this agent; $image not scanned" >&2
fi

#!/usr/bin/env bash
# Lints the Jenkinsfile with npm-groovy-lint (CodeNarc, on the machine's Java 17), pinned in
# deploy/jenkins-lint/ and installed there with npm ci when missing; fails on any warning.
# Rules: CodeNarc's recommended set for Jenkinsfiles, less the ones a declarative pipeline
# breaks by its shape (deploy/jenkins-lint/.groovylintrc.json says which and why).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/web.sh
command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
ensure_node_modules deploy/jenkins-lint
# --noserver: no CodeNarc server left running after the check.
timeout 300 deploy/jenkins-lint/node_modules/.bin/npm-groovy-lint --noserver --failon warning \
  --config deploy/jenkins-lint/.groovylintrc.json --output txt Jenkinsfile

#!/usr/bin/env bash
# Lint the Jenkinsfile without a Jenkins server: npm-groovy-lint parses it with Groovy's own
# parser and runs CodeNarc's Jenkinsfile rules over it (scripts/jenkinsfile-lint/groovylintrc.json),
# on Debian's Java and Node.js (scripts/apt-packages.txt). Any finding, even an info, fails.
# The linter and its dependencies come from scripts/jenkinsfile-lint/package-lock.json, installed
# into .build/jenkinsfile-lint once per lock.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pins=scripts/jenkinsfile-lint
tool=.build/jenkinsfile-lint
want=$(cat "$pins/package.json" "$pins/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$tool/.pins.sha256" 2>/dev/null)" != "$want" ]; then
  start=$SECONDS
  rm -rf "$tool" && mkdir -p "$tool"
  cp "$pins/package.json" "$pins/package-lock.json" "$tool/"
  (cd "$tool" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$tool/.pins.sha256"
  echo "jenkinsfile-lint: installed npm-groovy-lint in $((SECONDS - start)) s"
fi
# CodeNarc walks the whole directory of the file it lints, which here would be the checkout with
# its .build/ (venvs, the Debian 13 root): minutes instead of seconds. It lints a copy alone.
rm -rf "$tool/src" && mkdir -p "$tool/src"
cp Jenkinsfile "$tool/src/"
# --noserver: no CodeNarc server left running in the background after the check.
(cd "$tool/src" && FORCE_COLOR=0 ../node_modules/.bin/npm-groovy-lint --noserver --failon info --output txt \
  --config "$root/$pins/groovylintrc.json" Jenkinsfile) \
  || { echo "jenkinsfile-lint: FAILED: fix the Jenkinsfile (findings above)" >&2; exit 1; }
echo "jenkinsfile-lint: the Jenkinsfile parses and CodeNarc finds nothing"

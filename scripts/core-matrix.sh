#!/usr/bin/env bash
# `make matrix`: the collection's sanity and unit tests (scripts/core-check.sh) on every minor
# release of ansible-core from the oldest meta/runtime.yml admits to the newest pinned here
# (requirements-ansible-core-2.NN.txt, and requirements.txt's own). A release that needs a
# newer Python than the machine's runs in the Debian 13 root (scripts/core-env.sh).
# MATRIX_VERSIONS="2.16 2.20" runs only those. All run even after a failure; the summary goes
# to .build/logs/matrix.summary as well; non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
oldest=$(grep -E '^requires_ansible:' meta/runtime.yml | grep -oE '[0-9]+\.[0-9]+' | head -n 1)
pinned=$(grep -E '^ansible-core==' requirements.txt | grep -oE '[0-9]+\.[0-9]+' | head -n 1)
if [ -n "${MATRIX_VERSIONS:-}" ]; then
  read -r -a versions <<< "$MATRIX_VERSIONS"
else
  mapfile -t versions < <({ echo "$pinned"; ls requirements-ansible-core-*.txt | sed -E 's/.*-([0-9]+\.[0-9]+)\.txt$/\1/'; } \
    | sort -u -V | awk -v oldest="$oldest" '{ split($0, v, "."); split(oldest, o, "."); if (v[1] > o[1] || (v[1] == o[1] && v[2] >= o[2])) print }')
fi
if [ "${versions[0]}" != "$oldest" ] && [ -z "${MATRIX_VERSIONS:-}" ]; then
  echo "matrix: meta/runtime.yml admits ansible-core $oldest, but nothing here pins it (requirements-ansible-core-$oldest.txt)" >&2
  exit 1
fi
mkdir -p .build/logs
summary=.build/logs/matrix.summary
started=$(date -u '+%Y-%m-%d %H:%M UTC')
declare -A line
failed=0
for version in "${versions[@]}"; do
  echo "==== ansible-core $version"
  scripts/core-check.sh "$version" 2>&1 | tee .build/logs/core-$version.out
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed=1
  line[$version]=$(grep -E "^core $version: " .build/logs/core-$version.out || echo "core $version: FAILED before its tests (above)")
done
{
  echo "matrix started $started ($(nproc) cores)"
  for version in "${versions[@]}"; do
    echo "${line[$version]}"
  done
} | tee "$summary"
exit "$failed"

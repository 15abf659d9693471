#!/usr/bin/env bash
# `make test`: every check, each timed; all run even after a failure so one CI run shows
# everything that is wrong, and the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
steps=(lint sanity units core-oldest core-newest packaging docs-check lab-tests)
declare -A status seconds
failed=0
total_start=$SECONDS
rm -f .build/logs/*.digest
for step in "${steps[@]}"; do
  echo "==== make $step"
  start=$SECONDS
  if make --no-print-directory "$step"; then status[$step]=passed; else status[$step]=FAILED; failed=1; fi
  seconds[$step]=$((SECONDS - start))
done
echo "==== make test summary"
for step in "${steps[@]}"; do
  printf '%-14s %-7s %5ss\n' "$step" "${status[$step]}" "${seconds[$step]}"
done
printf 'total %ss\n' "$((SECONDS - total_start))"
for digest in .build/logs/*.digest; do
  [ -s "$digest" ] || continue
  echo "==== what failed in $(basename "$digest" .digest) (whole log: ${digest%.digest}.log)"
  sed -e 's/\x1b\[[0-9;]*m//g' "$digest"
done
exit "$failed"

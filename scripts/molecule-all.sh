#!/usr/bin/env bash
# Every Molecule scenario under molecule/ (shared/ holds playbooks, not a scenario), each
# timed; all run even after a failure; non-zero if any failed or if there is none.
set -uo pipefail
cd "$(dirname "$0")/.."
mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml | awk -F/ '{print $2}' | sort)
if [ "${#scenarios[@]}" -eq 0 ]; then
  echo "molecule: no scenarios found" >&2
  exit 1
fi
failed=0
report=()
for scenario in "${scenarios[@]}"; do
  if reason=$(scripts/not-yet-passing.sh molecule "$scenario"); then
    report+=("$(printf 'scenario %-10s NOT RUN (not yet passing: %s)' "$scenario" "$reason")")
    continue
  fi
  start=$SECONDS
  if molecule test -s "$scenario"; then result=passed; else result=FAILED; failed=1; fi
  report+=("$(printf 'scenario %-10s %-7s %5ss' "$scenario" "$result" "$((SECONDS - start))")")
done
printf '%s\n' "${report[@]}"
exit "$failed"

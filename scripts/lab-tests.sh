#!/usr/bin/env bash
# Every lab-backed test — the module integration targets and each Molecule scenario (the dr
# scenario also runs every stage of the Jenkins pipeline) — run in LAB_TEST_LANES parallel
# lanes (default 2). A scenario keeps one core busy on average (its VMs take turns), so two
# lanes fill this 2-core machine instead of leaving a core idle.
# Jobs start longest first; all run even after a failure; non-zero if any failed.
# LAB_TEST_KINDS="molecule" runs the scenarios only (make molecule-all).
set -uo pipefail
cd "$(dirname "$0")/.."
lanes=${LAB_TEST_LANES:-2}
kinds=${LAB_TEST_KINDS:-integration molecule}
jobs=()
[[ " $kinds " == *" integration "* ]] && jobs+=(integration)
# Order, after integration: by the wall times in docs/lab.md's budget, so that with two lanes
# ha starts beside integration, nat (the longest scenario, with its bad-model check) takes the
# first free lane, and dr and routed fill the ends; then every other scenario in name order. Each scenario once: these names, then every other one
# (awk drops repeats).
mapfile -t scenarios < <({ printf '%s\n' ha nat dr routed
  find molecule -mindepth 2 -maxdepth 2 -name molecule.yml | awk -F/ '{print $2}' | sort; } | awk '!seen[$0]++')
[[ " $kinds " == *" molecule "* ]] || scenarios=()
for scenario in "${scenarios[@]}"; do
  [ -f "molecule/$scenario/molecule.yml" ] && jobs+=("molecule/$scenario")
done
if [ "${#jobs[@]}" -eq 0 ]; then
  echo "lab-tests: nothing to run for: $kinds" >&2
  exit 1
fi
mkdir -p .build/logs
: > .build/logs/lab-tests.summary
echo "lab-tests: ${#jobs[@]} jobs in $lanes lanes: ${jobs[*]}"
printf '%s\n' "${jobs[@]}" | xargs -P "$lanes" -n 1 scripts/lab-job.sh
status=$?
echo "==== lab-tests summary"
cat .build/logs/lab-tests.summary
exit $(( status == 0 ? 0 : 1 ))

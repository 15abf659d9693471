#!/usr/bin/env bash
# Every lab-backed test — the module integration targets and each Molecule scenario (the dr
# scenario also runs every stage of the Jenkins pipeline) — run in LAB_TEST_LANES parallel
# lanes (default 2). A scenario keeps one core busy on average (its VMs take turns), so two
# lanes fill this 2-core machine instead of leaving a core idle.
# Jobs start longest first; all run even after a failure; non-zero if any failed.
# LAB_TEST_KINDS="molecule" runs the scenarios only (make molecule-all).
# One scenario, LAB_NEWEST_CORE_SCENARIO (default routed; empty for none), runs on the newest
# ansible-core pinned here instead of the pinned one: job molecule/<scenario>@newest, in the
# Debian 13 root when the machine's Python is too old for that release (scripts/core-env.sh).
# make test thus drives the lab end to end with both releases and no scenario runs twice.
set -uo pipefail
cd "$(dirname "$0")/.."
lanes=${LAB_TEST_LANES:-2}
kinds=${LAB_TEST_KINDS:-integration molecule}
newest_core_scenario=${LAB_NEWEST_CORE_SCENARIO-routed}
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
  [ -f "molecule/$scenario/molecule.yml" ] || continue
  if [ "$scenario" = "$newest_core_scenario" ]; then
    jobs+=("molecule/$scenario@newest")
  else
    jobs+=("molecule/$scenario")
  fi
done
if [ "${#jobs[@]}" -eq 0 ]; then
  echo "lab-tests: nothing to run for: $kinds" >&2
  exit 1
fi
mkdir -p .build/logs
: > .build/logs/lab-tests.summary
echo "lab-tests: ${#jobs[@]} jobs in $lanes lanes: ${jobs[*]}"
# The newest release's venv (and the root it may need) is made now, so that no job's time
# includes it; should that fail, the job fails with the reason in its log.
if [[ " ${jobs[*]} " == *"@newest "* ]]; then
  scripts/core-env.sh newest true || echo "lab-tests: the newest ansible-core is not ready; its job will say why" >&2
fi
printf '%s\n' "${jobs[@]}" | xargs -P "$lanes" -n 1 scripts/lab-job.sh
status=$?
echo "==== lab-tests summary"
cat .build/logs/lab-tests.summary
exit $(( status == 0 ? 0 : 1 ))

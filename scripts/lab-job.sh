#!/usr/bin/env bash
# lab-job.sh JOB: run one lab-backed test job with its output in .build/logs/<job>.log; print one
# result line, and the log's tail when it failed, so jobs running side by side never interleave
# their output. JOB is `integration`, `molecule/<scenario>`, or `molecule/<scenario>@<release>`
# to drive the scenario with another ansible-core than the pinned one (2.NN, oldest or newest:
# scripts/core-env.sh, which runs a release that needs a newer Python in the Debian 13 root).
# The result line names the ansible-core that ran the job.
set -uo pipefail
cd "$(dirname "$0")/.."
# As make sets them, so a job run by hand tests this checkout, not some installed copy.
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections"
job=$1
log=.build/logs/${job//[\/@]/-}.log
digest=${log%.log}.digest
mkdir -p .build/logs
start=$SECONDS
case $job in
  integration) command=(scripts/integration.sh) ;;
  molecule/*) scenario=${job%@*}; command=(molecule test -s "${scenario#molecule/}") ;;
  *) echo "lab-job: unknown job $job" >&2; exit 2 ;;
esac
release=pinned
[[ $job == *@* ]] && release=${job#*@}
command=(scripts/core-env.sh "$release" "${command[@]}")
# Each log line starts with the seconds since the job started: where the time goes is in the
# log of every run, CI's included.
"${command[@]}" 2>&1 | while IFS= read -r line; do printf '%5d %s\n' $((SECONDS - start)) "$line"; done > "$log"
if [ "${PIPESTATUS[0]}" -eq 0 ]; then result=passed; else result=FAILED; fi
elapsed=$((SECONDS - start))
rm -f "$digest"
if [ "$result" = FAILED ]; then
  echo "==== $job FAILED after ${elapsed}s; last 150 lines of $log:"
  tail -n 150 "$log"
  # CI shows only the end of make test's output: keep the few lines that say what failed for
  # scripts/test-all.sh to print last - pytest's summary line of each failed test (with its
  # assertion), the first failed Ansible task with the start of its message, and the
  # Molecule step that failed.
  plain=$(sed -e 's/\x1b\[[0-9;]*m//g' "$log")
  {
    grep -aE '(FAILED|ERROR) [^ ]+::[^ ]+' <<< "$plain" | head -n 5
    awk '/TASK \[/ { task = $0 } /fatal: \[|failed: \[/ { print task; print; for (i = 0; i < 3 && (getline line) > 0; i++) print line; exit }' <<< "$plain"
    grep -aE 'Executed: Failed' <<< "$plain" | head -n 2
  } | cut -c1-300 > "$digest"
  # A job that failed before any task or test ran (a scenario file Molecule cannot read, a
  # lab that never booted) has none of those lines: its first error lines say why.
  [ -s "$digest" ] || grep -aE -A2 'ERROR|CRITICAL|Error|error:' <<< "$plain" | head -n 6 | cut -c1-300 > "$digest"
fi
# What drove the job, from the line scripts/core-env.sh logged: "ansible-core 2.NN.P on Python 3.X.Y".
driver=$(sed -nE 's/^ *[0-9]+ core-env: (ansible-core .*) \(.*$/\1/p' "$log" | head -n 1)
printf '%-24s %-7s %5ss  %s\n' "$job" "$result" "$elapsed" "${driver:-(ansible-core not reached)}" | tee -a .build/logs/lab-tests.summary
[ "$result" = passed ]

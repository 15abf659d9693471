#!/usr/bin/env bash
# Run every stage of the Jenkins pipeline (scripts/pipeline.sh) against a real lab: boots the
# dr topology as instance "pipeline" under the big-lab lock, runs lint, validate, check
# (whose diff must show changes on the fresh lab), the approval (automated here; Jenkins'
# input step in the Jenkinsfile), apply, verify (TCP through every VIP, status.yml as text
# and JSON) and junit, then a second check that must find nothing to change. Also saves the
# director's ipvsadm -Ln for docs/dr.md. The lab goes down on every exit.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PIPELINE_TEST_LOCKED:-}" ]; then
  echo "pipeline-test: waiting for /tmp/lvs-lab-big.lock"
  exec env PIPELINE_TEST_LOCKED=1 PIPELINE_TEST_LOCK_WAIT_START="$(date +%s)" \
    flock /tmp/lvs-lab-big.lock "$0" "$@"
fi
echo "pipeline-test: lock held after $(( $(date +%s) - PIPELINE_TEST_LOCK_WAIT_START )) s"
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections" ANSIBLE_ROLES_PATH="$PWD/roles"
export PIPELINE_ARTIFACTS=.build/pipeline-test
instance=pipeline
inventory=".lab/$instance/inventory.yml"
trap '.venv/bin/python lab/labctl.py down "$instance"' EXIT

declare -a timings
failed=()
# A failed stage is recorded and the later ones still run, so one lab boot shows every stage's
# result; the exit status is non-zero if any stage or check failed.
timed() {
  local name=$1 start=$SECONDS status=passed
  shift
  echo "==== pipeline-test: $name"
  "$@" || { status=FAILED; failed+=("$name"); }
  timings+=("$(printf '%-10s %-7s %5ss' "$name" "$status" "$((SECONDS - start))")")
}
expect() {
  local what=$1
  shift
  if "$@"; then echo "pipeline-test: ok: $what"; else echo "pipeline-test: FAILED: $what" >&2; failed+=("$what"); fi
}

total=$SECONDS
timed lab-up .venv/bin/python lab/labctl.py up dr --name "$instance"
[ ${#failed[@]} -eq 0 ] || { echo "pipeline-test: the lab did not come up" >&2; exit 1; }
timed lint scripts/pipeline.sh lint "$inventory"
timed validate scripts/pipeline.sh validate "$inventory"
timed check scripts/pipeline.sh check "$inventory"
# The diff a person would approve must show the deployment: changes, and no failed host.
expect "the check run on the fresh lab reports changes" grep -Eq 'changed=[1-9]' "$PIPELINE_ARTIFACTS/check-diff.txt"
echo "==== pipeline-test: approval (Jenkins asks a person here; automated in this test)"
timed apply scripts/pipeline.sh apply "$inventory"
timed verify scripts/pipeline.sh verify "$inventory"
# A second check after apply must change nothing: the pipeline is safe to run again.
timed recheck scripts/pipeline.sh check "$inventory"
expect "the check run after apply reports no change" \
  bash -c "! grep -Eq 'changed=[1-9]|failed=[1-9]|unreachable=[1-9]' '$PIPELINE_ARTIFACTS/check-diff.txt'"
timed junit scripts/pipeline.sh junit
# The guide's ipvsadm -Ln only from a deployment that applied and verified.
case " ${failed[*]} " in
  *" apply "*|*" verify "*) echo "pipeline-test: no ipvsadm -Ln capture: apply or verify failed" ;;
  *) timed capture scripts/docs/capture-ipvsadm.sh "$instance" dr ;;
esac
# For docs/troubleshooting.md: what a request to the VIP does from the director and from a
# real server (recorded, not asserted: these are the pitfalls the page explains).
echo "==== pipeline-test: curl the VIP from the director"
.venv/bin/python lab/labctl.py ssh "$instance" lvs \
  "sysctl -qw net.ipv4.conf.all.log_martians=1; curl -s --max-time 5 http://192.0.2.100/; echo \"curl exit \$?\"; ipvsadm -Lcn; dmesg | grep -i martian | tail -n 4" || true
echo "==== pipeline-test: curl the VIP from rs1"
.venv/bin/python lab/labctl.py ssh "$instance" rs1 \
  "curl -s --max-time 5 http://192.0.2.100/; echo \"curl exit \$?\"" || true
echo "==== pipeline-test summary"
printf '%s\n' "${timings[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "pipeline-test: FAILED (${failed[*]}) after $((SECONDS - total)) s with the lab up" >&2
  exit 1
fi
echo "pipeline-test: passed in $((SECONDS - total)) s with the lab up"

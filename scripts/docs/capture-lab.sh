#!/usr/bin/env bash
# Boot a lab topology as instance docs-<topology> under the big-lab lock, deploy site.yml,
# save the director's `ipvsadm -Ln` for the mode guides (docs/captures/<topology>.ipvsadm-Ln.txt;
# routed's is shown by both tun.md and fullnat.md) and bring the lab down again.
#   scripts/docs/capture-lab.sh dr|nat|routed|ha
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] || { echo "usage: scripts/docs/capture-lab.sh TOPOLOGY" >&2; exit 2; }
if [ -z "${CAPTURE_LAB_LOCKED:-}" ]; then
  exec env CAPTURE_LAB_LOCKED=1 flock /tmp/lvs-lab-big.lock "$0" "$@"
fi
topology=$1 instance="docs-$1"
# CAPTURE_DEADLINE=HHMM: give the lock straight back when it arrives too late to finish.
if [ -n "${CAPTURE_DEADLINE:-}" ] && [ "$(date +%H%M)" -ge "$CAPTURE_DEADLINE" ]; then
  echo "capture-lab: lock held after the deadline $CAPTURE_DEADLINE; not starting $topology" >&2
  exit 1
fi
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections" ANSIBLE_ROLES_PATH="$PWD/roles"
trap '.venv/bin/python lab/labctl.py down "$instance"' EXIT
start=$SECONDS
.venv/bin/python lab/labctl.py up "$topology" --name "$instance"
ansible-playbook -i ".lab/$instance/inventory.yml" playbooks/site.yml
scripts/docs/capture-ipvsadm.sh "$instance" "$topology"
echo "capture-lab: $topology in $((SECONDS - start)) s with the lab up"

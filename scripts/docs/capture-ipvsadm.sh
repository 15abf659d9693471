#!/usr/bin/env bash
# Save the real `ipvsadm -Ln` of a running lab instance's first director for the mode
# guides: docs/captures/<topology>.ipvsadm-Ln.txt. The caller has deployed site.yml there
# (scripts/docs/capture-lab.sh does both).
#   scripts/docs/capture-ipvsadm.sh INSTANCE TOPOLOGY
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { echo "usage: scripts/docs/capture-ipvsadm.sh INSTANCE TOPOLOGY" >&2; exit 2; }
instance=$1 topology=$2
inventory=".lab/$instance/inventory.yml"
director=$(.venv/bin/python -c 'import sys, yaml; print(sorted(yaml.safe_load(open(sys.argv[1]))["all"]["children"]["directors"]["hosts"])[0])' "$inventory")
mkdir -p docs/captures
output="docs/captures/$topology.ipvsadm-Ln.txt"
.venv/bin/python lab/labctl.py ssh "$instance" "$director" ipvsadm -Ln > "$output.tmp"
grep -q '^IP Virtual Server version' "$output.tmp" || { echo "capture: no ipvsadm listing from $director" >&2; exit 1; }
mv "$output.tmp" "$output"
echo "capture: $output from $director of lab $instance"

#!/usr/bin/env bash
# make bench: boot the single lab as instance `bench` (under the machine's one-VM lab lock),
# run tests/bench/bench.py against it and always bring it down. BENCH_SIZES=100,1000 picks
# the sizes; BENCH_REPEAT=n runs each step n times and reports the median (default 3);
# BENCH_JSON=<path> also writes the rows as JSON; BENCH_MEMORY_MIB sets the VM's memory
# (default 2048: 50 000 rules in the kernel, the module and keepalived's reload, which holds
# the old and the new configuration at once);
# BENCH_PROFILE=N profiles one ipvs_table converge from empty of N rules inside the VM instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections" ANSIBLE_ROLES_PATH="$PWD/roles"
instance=bench
args=(--instance "$instance" --sizes "${BENCH_SIZES:-100,1000,5000,20000,50000}" --details .build/bench-details.json --repeat "${BENCH_REPEAT:-3}")
if [ -n "${BENCH_PROFILE:-}" ]; then
  args+=(--profile "$BENCH_PROFILE")
fi
if [ -n "${BENCH_JSON:-}" ]; then
  args+=(--json "$BENCH_JSON")
fi
echo "bench: load before: $(uptime); commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' with local changes')"
# The lock is held exactly while the VM runs; the trap brings it down on any exit.
status=0
LVS_LAB_MEMORY_MIB="${BENCH_MEMORY_MIB:-2048}" flock /tmp/lvs-lab-small.lock bash -c '
  trap ".venv/bin/python lab/labctl.py down $0" EXIT
  .venv/bin/python lab/labctl.py up single --name "$0"
  .venv/bin/python tests/bench/bench.py "$@"
' "$instance" "${args[@]}" || status=$?
echo "bench: load after: $(uptime)"
echo "bench: wall time of make bench, boot and shutdown included: $((SECONDS / 60)) min $((SECONDS % 60)) s"
exit "$status"

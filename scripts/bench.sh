#!/usr/bin/env bash
# make bench: boot the single lab as instance `bench` (under the machine's one-VM lab lock),
# run tests/bench/bench.py against it and always bring it down. BENCH_SIZES=100,1000 picks
# the sizes; BENCH_REPEAT=n runs (a), (b) and (c) n times each and reports the median (default 3);
# BENCH_JSON=<path> also writes the rows as JSON;
# BENCH_PROFILE=N profiles one ipvs_table converge from empty of N rules inside the VM instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections" ANSIBLE_ROLES_PATH="$PWD/roles"
instance=bench
args=(--instance "$instance" --sizes "${BENCH_SIZES:-100,1000,5000,20000}" --details .build/bench-details.json --repeat "${BENCH_REPEAT:-3}")
if [ -n "${BENCH_PROFILE:-}" ]; then
  args+=(--profile "$BENCH_PROFILE")
fi
if [ -n "${BENCH_JSON:-}" ]; then
  args+=(--json "$BENCH_JSON")
fi
echo "bench: load before: $(uptime)"
# The lock is held exactly while the VM runs; the trap brings it down on any exit.
flock /tmp/lvs-lab-small.lock bash -c '
  trap ".venv/bin/python lab/labctl.py down $0" EXIT
  .venv/bin/python lab/labctl.py up single --name "$0"
  .venv/bin/python tests/bench/bench.py "$@"
' "$instance" "${args[@]}"
echo "bench: load after: $(uptime)"

#!/usr/bin/env bash
# not-yet-passing.sh KIND NAME: print the reason and exit 0 when tests/not-yet-passing.txt lists
# KIND/NAME; exit 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
awk -v key="$1/$2" '$1 == key { $1 = ""; sub(/^ +/, ""); print; found = 1 } END { exit !found }' tests/not-yet-passing.txt

#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection in .build/sanity/<run>/ansible_collections/lvs/topology,
# with the Python and ansible-core of the venv VENV (default .venv; scripts/core-check.sh picks
# other releases' venvs), no containers. Each run has its own copy, so runs never collide.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$(realpath "${VENV:-.venv}")
mkdir -p "$root/.build/sanity"
run_dir=$(mktemp -d "$root/.build/sanity/run.XXXXXX")
trap 'rm -rf "$run_dir"' EXIT
tree=$(scripts/collection-tree.sh "$run_dir")
cd "$tree"
# ansible-test lists files through git when there is a repository; give the copy its own.
git init -q . && git add -A >/dev/null
python_version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PATH="$venv/bin:$PATH" ansible-test sanity --python "$python_version" --color no "$@"

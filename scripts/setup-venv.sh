#!/usr/bin/env bash
# Create a venv from a pinned requirements file; recreate it only when that file changes.
#
#   scripts/setup-venv.sh                      .venv from requirements.txt
#   scripts/setup-venv.sh VENV REQUIREMENTS    a tool's own venv, e.g. galaxy-importer's, or another
#                                              ansible-core release's (scripts/core-env.sh)
#
# A venv with an ansible-test also gets its pip bootstrap (scripts/ansible-test-pip.sh), on
# every run: it lives in ~/.ansible, outside the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
requirements=${2:-requirements.txt}
stamp=$venv/.requirements.sha256
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "venv: $venv up to date"
else
  rm -rf "$venv"
  python3 -m venv "$venv"
  # The machine-wide pip configuration may list local find-links that do not exist; hide that noise.
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" 2>&1 | { grep -v "^WARNING: Location" || true; }
  echo "$want" > "$stamp"
  echo "venv: installed $requirements into $venv"
fi
if [ -x "$venv/bin/ansible-test" ]; then
  scripts/ansible-test-pip.sh "$venv"
fi

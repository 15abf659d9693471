#!/usr/bin/env bash
# Create a venv from a pinned requirements file; recreate it only when that file changes.
#
#   scripts/setup-venv.sh                      .venv from requirements.txt (and ansible-test's pip)
#   scripts/setup-venv.sh VENV REQUIREMENTS    a tool's own venv, e.g. galaxy-importer's
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
requirements=${2:-requirements.txt}
stamp=$venv/.requirements.sha256
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "venv: $venv up to date"
  exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
# The machine-wide pip configuration may list local find-links that do not exist; hide that noise.
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" 2>&1 | { grep -v "^WARNING: Location" || true; }
echo "$want" > "$stamp"
echo "venv: installed $requirements into $venv"
[ "$venv" = .venv ] || exit 0

# ansible-test bootstraps pip in its own venvs from a script it downloads; save our stand-in
# under the name it looks for (machine setup, not a download).
pip_version=$(.venv/bin/python - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages)).group(1))
PY
)
mkdir -p ~/.ansible/test/cache
cp scripts/get_pip_standin.py ~/.ansible/test/cache/get_pip_${pip_version//./_}.py
echo "venv: ansible-test pip bootstrap for pip $pip_version in place"

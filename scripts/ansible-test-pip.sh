#!/usr/bin/env bash
# ansible-test bootstraps pip in its own venvs from a script it downloads; save our stand-in
# (scripts/get_pip_standin.py) under the name the ansible-test of VENV looks for (machine
# setup, not a download). Each ansible-core release pins its own pip version.
#   scripts/ansible-test-pip.sh VENV
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1
pip_version=$("$venv/bin/python" - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages)).group(1))
PY
)
mkdir -p ~/.ansible/test/cache
cp scripts/get_pip_standin.py ~/.ansible/test/cache/get_pip_${pip_version//./_}.py
echo "venv: ansible-test pip bootstrap for pip $pip_version in place ($venv)"

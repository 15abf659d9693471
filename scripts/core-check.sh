#!/usr/bin/env bash
# The collection's sanity and unit tests on one minor release of ansible-core:
#
#   scripts/core-check.sh 2.NN     in .build/venvs/ansible-core-2.NN (requirements-ansible-core-2.NN.txt),
#                                  or in .venv when that is the pinned release (requirements.txt)
#   scripts/core-check.sh oldest   the oldest release meta/runtime.yml admits (requires_ansible)
#
# scripts/core-env.sh picks the venv, and the Debian 13 root for a release the machine's Python
# is too old for. Each half logs to .build/logs/core-2.NN-{sanity,units}.log; one result line,
# and the tail of a failed half's log. Non-zero if either half failed.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != --in-core-env ]; then
  exec scripts/core-env.sh "${1:-}" scripts/core-check.sh --in-core-env
fi
venv=$CORE_ENV_VENV version=$CORE_ENV_VERSION release=$CORE_ENV_RELEASE
python=$("$venv/bin/python" -c 'import platform; print(platform.python_version())')

mkdir -p .build/logs
failed=0
summary="ansible-core $release, Python $python:"
for half in sanity units; do
  log=.build/logs/core-$version-$half.log
  start=$SECONDS
  case $half in
    sanity) VENV=$venv scripts/sanity.sh > "$log" 2>&1 ;;
    # tests/unit only: lab/tests (also in pytest.ini) test the lab's tooling, not the collection.
    units) "$venv/bin/python" -m pytest -p no:cacheprovider tests/unit > "$log" 2>&1 ;;
  esac
  if [ $? -eq 0 ]; then result=passed; else result=FAILED; failed=1; fi
  summary+=" $half $result $((SECONDS - start)) s;"
  if [ "$result" = FAILED ]; then
    echo "==== core $version $half FAILED; last 60 lines of $log:"
    tail -n 60 "$log"
  fi
done
echo "core $version: ${summary%;}"
exit "$failed"

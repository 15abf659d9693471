#!/usr/bin/env bash
# The collection's sanity and unit tests on one minor release of ansible-core:
#
#   scripts/core-check.sh 2.NN     in .build/venvs/ansible-core-2.NN (requirements-ansible-core-2.NN.txt),
#                                  or in .venv when that is the pinned release (requirements.txt)
#   scripts/core-check.sh oldest   the oldest release meta/runtime.yml admits (requires_ansible)
#
# Each half logs to .build/logs/core-2.NN-{sanity,units}.log; one result line, and the tail of
# a failed half's log. Non-zero if either half failed.
set -uo pipefail
cd "$(dirname "$0")/.."
version=$1
oldest=$(grep -E '^requires_ansible:' meta/runtime.yml | grep -oE '[0-9]+\.[0-9]+' | head -n 1)
[ "$version" = oldest ] && version=$oldest
pinned=$(grep -E '^ansible-core==' requirements.txt | grep -oE '[0-9]+\.[0-9]+' | head -n 1)

if [ -f "requirements-ansible-core-$version.txt" ]; then
  venv=.build/venvs/ansible-core-$version
  scripts/setup-venv.sh "$venv" "requirements-ansible-core-$version.txt" > /dev/null || exit 1
elif [ "$version" = "$pinned" ]; then
  venv=.venv
else
  echo "core-check: no requirements-ansible-core-$version.txt, and $pinned is the pinned release" >&2
  exit 2
fi
# A venv answering with another release than its name (a stale pin) would test the wrong one.
release=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
python=$("$venv/bin/python" -c 'import platform; print(platform.python_version())')
if [ "${release%.*}" != "$version" ]; then
  echo "core-check: $venv has ansible-core $release, not $version" >&2
  exit 1
fi

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

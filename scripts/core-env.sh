#!/usr/bin/env bash
# Run a command in this checkout with one minor release of ansible-core first on PATH:
#
#   scripts/core-env.sh 2.NN|oldest|newest|pinned CMD...
#
# 2.NN runs in .build/venvs/ansible-core-2.NN (requirements-ansible-core-2.NN.txt, made or
# refreshed first), or in .venv when that is the pinned release (requirements.txt); oldest is
# the oldest release meta/runtime.yml admits (requires_ansible), newest the newest pinned here.
# A release that needs a newer Python than the machine's (3.12 from ansible-core 2.20 on) runs
# in the Debian 13 root (scripts/debian13-root.sh). CMD gets CORE_ENV_VENV, CORE_ENV_VERSION
# (2.NN) and CORE_ENV_RELEASE (2.NN.P); one line on stderr, "core-env: ansible-core 2.NN.P on
# Python 3.X.Y (VENV, SYSTEM)", says what runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: scripts/core-env.sh 2.NN|oldest|newest|pinned CMD..." >&2; exit 2; }
version=$1
shift
pinned=$(grep -E '^ansible-core==' requirements.txt | grep -oE '[0-9]+\.[0-9]+' | head -n 1)
case $version in
  oldest) version=$(grep -E '^requires_ansible:' meta/runtime.yml | grep -oE '[0-9]+\.[0-9]+' | head -n 1) ;;
  newest) version=$(printf '%s\n' "$pinned" requirements-ansible-core-*.txt | sed -E 's/^requirements-ansible-core-(.*)\.txt$/\1/' | sort -V | tail -n 1) ;;
  pinned) version=$pinned ;;
esac
[[ $version =~ ^[0-9]+\.[0-9]+$ ]] || { echo "core-env: $version is not a release (2.NN), oldest, newest or pinned" >&2; exit 2; }

# ansible-core 2.20 and later run on Python 3.12 or later only. Inside the root python3 is
# Debian 13's 3.13, so this re-enters once.
if [ "${version#*.}" -ge 20 ] && ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
  exec scripts/debian13-root.sh run scripts/core-env.sh "$version" "$@"
fi

if [ -f "requirements-ansible-core-$version.txt" ]; then
  venv=.build/venvs/ansible-core-$version
  scripts/setup-venv.sh "$venv" "requirements-ansible-core-$version.txt" > /dev/null
elif [ "$version" = "$pinned" ]; then
  venv=.venv
else
  echo "core-env: no requirements-ansible-core-$version.txt, and $pinned is the pinned release" >&2
  exit 2
fi
# A venv answering with another release than its name (a stale pin) would run the wrong one.
release=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
if [ "${release%.*}" != "$version" ]; then
  echo "core-env: $venv has ansible-core $release, not $version" >&2
  exit 1
fi
if [ -f /etc/debian_version ]; then system="Debian $(cut -d. -f1 /etc/debian_version)"; else system=$(uname -s); fi
python=$("$venv/bin/python" -c 'import platform; print(platform.python_version())')
echo "core-env: ansible-core $release on Python $python ($venv, $system)" >&2
export PATH="$PWD/$venv/bin:$PATH" CORE_ENV_VENV=$venv CORE_ENV_VERSION=$version CORE_ENV_RELEASE=$release
exec "$@"

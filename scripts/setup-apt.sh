#!/usr/bin/env bash
# Install the Debian packages in scripts/apt-packages.txt; no apt-get call at all when every
# one of them is already installed, so a second `make setup` does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t packages < <(grep -v -e '^#' -e '^$' scripts/apt-packages.txt)
# A name an installed package provides counts as present: a nodejs from another archive than
# Debian's carries its own npm, and installing Debian's npm would replace that nodejs.
provided=" $(dpkg-query -W -f='${db:Status-Status} ${Provides}\n' | awk '$1 == "installed" { $1 = ""; print }' \
  | tr ',' '\n' | sed -E 's/\(.*\)//' | tr -s ' \n' '  ') "
missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || [[ "$provided" == *" $package "* ]] || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "apt: all ${#packages[@]} packages present"
  exit 0
fi
echo "apt: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Copy the collection's files (tracked and untracked-but-not-ignored) into
# $1/ansible_collections/lvs/topology, the layout ansible-test requires, and print that path.
# The developer scripts are tooling around the collection, not Ansible content: they stay out,
# as they stay out of the built tarball (galaxy.yml build_ignore) - all but scripts/pipeline.sh,
# which the tarball ships for its Jenkinsfile. The lab ships, so it is checked like the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$1/ansible_collections/lvs/topology"
rm -rf "$dest"
mkdir -p "$dest"
{ git ls-files -z --cached --others --exclude-standard | grep -z -v -E '^(scripts|\.ci)/'
  printf '%s\0' scripts/pipeline.sh; } \
  | tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null \
  | tar -xf - -C "$dest"
echo "$dest"

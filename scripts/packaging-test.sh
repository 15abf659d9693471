#!/usr/bin/env bash
# Packaging test: build the collection tarball, install it into an empty collections path,
# and use it from there only (FQCNs): ansible-doc for every module, then a playbook.
set -euo pipefail
cd "$(dirname "$0")/.."
work=.build/packaging
rm -rf "$work" && mkdir -p "$work/dist" "$work/collections"
ansible-galaxy collection build --force --output-path "$work/dist" .
tarball=$(ls "$work"/dist/lvs-topology-*.tar.gz)
# Only the installed copy is visible from here on, never the checkout (which ansible.cfg and
# the Makefile put on the collections path).
export ANSIBLE_COLLECTIONS_PATH="$PWD/$work/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
ansible-galaxy collection install --offline --no-deps -p "$work/collections" "$tarball"
installed="$work/collections/ansible_collections/lvs/topology"
test -f "$installed/MANIFEST.json"
modules=$(find "$installed/plugins/modules" -name '*.py' ! -name '__init__.py' -printf 'lvs.topology.%f\n' | sed 's/\.py$//' | sort)
[ -n "$modules" ] || { echo "packaging: the tarball holds no modules" >&2; exit 1; }
for module in $modules; do
  ansible-doc -t module "$module" > /dev/null
done
echo "packaging: ansible-doc read $(echo "$modules" | wc -w) modules from the installed tarball"
ansible-playbook -i localhost, -c local tests/packaging/installed_collection.yml

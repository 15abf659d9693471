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

# The execution environment (execution-environment.yml) installs the same tarball the same
# way; check its definition points at what this script built, and that requirements.yml
# (its Galaxy requirements) installs offline.
ansible-galaxy collection install --offline -r requirements.yml -p "$work/collections"
.venv/bin/python - "$tarball" <<'PY'
import fnmatch, os, sys, yaml
ee = yaml.safe_load(open("execution-environment.yml"))
assert ee["version"] == 3, "execution-environment.yml: version must be 3 (ansible-builder 3.x schema)"
assert os.path.exists(ee["dependencies"]["galaxy"]), "execution-environment.yml: galaxy requirements file missing"
sources = [item["src"] for item in ee["additional_build_files"]]
tarball = os.path.basename(sys.argv[1])
if not any(fnmatch.fnmatch(tarball, os.path.basename(source)) for source in sources):
    sys.exit("execution-environment.yml: no additional_build_files src matches %s" % tarball)
steps = " ".join(ee["additional_build_steps"]["append_final"])
assert "ansible-galaxy collection install --offline --no-deps" in steps, "the EE must install the tarball as this test does"
print("packaging: execution-environment.yml installs %s as this test did" % tarball)
PY
# ansible-builder is not part of the venv; when it is installed, also generate the EE's build
# context (no container runtime needed).
if command -v ansible-builder > /dev/null; then
  mkdir -p .build/ee && cp "$tarball" .build/ee/
  ansible-builder create -f execution-environment.yml -c "$work/ee-context"
  grep -q 'ansible-galaxy collection install --offline --no-deps' "$work/ee-context/Dockerfile" "$work/ee-context/Containerfile" 2> /dev/null
  echo "packaging: ansible-builder created the EE build context in $work/ee-context"
else
  echo "packaging: ansible-builder not installed: EE build context not generated (definition checked above)"
fi

#!/usr/bin/env bash
# Packaging test: build the collection tarball, import it as Galaxy would, install it into an
# empty collections path and use it from there only (FQCNs): ansible-doc for every module, then
# a playbook; then the execution environment's build context from the same tarball.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=.build/packaging
rm -rf "$work" && mkdir -p "$work/dist" "$work/collections" "$work/galaxy-importer"
ansible-galaxy collection build --force --output-path "$work/dist" .
tarball=$(ls "$work"/dist/lvs-topology-*.tar.gz)
# The Jenkinsfile ships, so the script its every step runs ships with it, executable; nothing
# else of scripts/ (the developer tooling) does. build_ignore lists that tooling by name.
shipped=$(tar -tvzf "$tarball" | awk '$NF ~ /^scripts\/./ { print $1, $NF }')
if [ "$shipped" != "-rwxr-xr-x scripts/pipeline.sh" ]; then
  echo "packaging: of scripts/, the tarball must hold scripts/pipeline.sh (executable) alone; it holds:" >&2
  echo "${shipped:-nothing}" >&2
  echo "packaging: add the developer tooling to galaxy.yml's build_ignore" >&2
  exit 1
fi

# Galaxy's own import (galaxy-importer, in its venv; scripts/galaxy-importer.cfg says what it
# runs). A warning or error it would put in Galaxy's import log fails the test as well.
start=$SECONDS
import_log=$work/galaxy-importer/import.log
if ! (cd "$work/galaxy-importer" \
      && GALAXY_IMPORTER_CONFIG="$root/scripts/galaxy-importer.cfg" PATH="$root/.build/venvs/galaxy-importer/bin:$PATH" \
         python -m galaxy_importer.main "$root/$tarball") > "$import_log" 2>&1 \
   || grep -E '^(WARNING|ERROR):' "$import_log" > /dev/null; then
  cat "$import_log" >&2
  echo "packaging: galaxy-importer refused $(basename "$tarball") or warned (above; $import_log)" >&2
  exit 1
fi
echo "packaging: galaxy-importer accepted $(basename "$tarball") ($((SECONDS - start)) s)"
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
# The EE's build context (ansible-builder create: no container runtime). Building the image
# needs its base image from a container registry, which make test does not reach.
start=$SECONDS
# The definition copies .build/ee/lvs-topology-*.tar.gz: this version's tarball only.
mkdir -p .build/ee && rm -f .build/ee/lvs-topology-*.tar.gz && cp "$tarball" .build/ee/
ansible-builder create -f execution-environment.yml -c "$work/ee-context"
test -f "$work/ee-context/_build/collections/$(basename "$tarball")"
grep -q 'ansible-galaxy collection install --offline --no-deps' "$work/ee-context/Dockerfile" "$work/ee-context/Containerfile" 2> /dev/null
echo "packaging: ansible-builder created the EE build context in $work/ee-context ($((SECONDS - start)) s)"

#!/usr/bin/env bash
# Packaging test: build the collection tarball, import it as Galaxy would, install it into an
# empty collections path and use it from there only (FQCNs): ansible-doc for every module, then
# a playbook; then the lab from the installed collection's lab/ into a venv of its own; then
# the execution environment's build context from the same tarball.
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
# The lab ships as a Python project of its own (lab/pyproject.toml), with lab/labctl.py
# executable, and without what pip install leaves in a tree.
listing=$(tar -tvzf "$tarball" | awk '{ print $1, $NF }')
for needed in '-rwxr-xr-x lab/labctl.py' ' lab/pyproject.toml' ' lab/lvs_lab/cli.py' '-rwxr-xr-x lab/image/build.sh' \
              ' lab/topologies/dr.yml' ' lab/template/create.yml'; do
  grep -qF -- "$needed" <<< "$listing" || { echo "packaging: the tarball lacks $needed" >&2; exit 1; }
done
if grep -E ' lab/(build/|[^/]*\.egg-info)' <<< "$listing" >&2; then
  echo "packaging: the tarball holds what pip install lab/ left in the tree (above); galaxy.yml's build_ignore drops it" >&2
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

# The lab, installed from the installed collection's lab/ into a venv of its own as a user
# would (no checkout on any path): its command, a shipped topology and a user's own topology
# file validated from a project directory (no VM boots), the same image recipe as the tree,
# the version of the collection, and the Molecule template written into the project.
start=$SECONDS
lab_venv="$PWD/$work/lab-venv"
.venv/bin/python -m venv "$lab_venv"
"$lab_venv/bin/pip" install --quiet "$installed/lab"
project="$work/project"
mkdir -p "$project"
cp lab/topologies/single.yml "$project/my-topology.yml"
(cd "$project"
 "$lab_venv/bin/lvs-lab" --help > /dev/null
 "$lab_venv/bin/lvs-lab" validate dr > /dev/null
 # Each command's whole output is taken before it is searched: grep -q stops reading at the
 # first match, and the command then fails writing the rest into a closed pipe.
 validated=$("$lab_venv/bin/lvs-lab" validate my-topology.yml)
 grep -q '^topology my-topology (.*/my-topology.yml): valid' <<<"$validated"
 status=$("$lab_venv/bin/lvs-lab" status)
 grep -qx 'no lab instance is up' <<<"$status"
 "$lab_venv/bin/lvs-lab" template molecule/lab > /dev/null)
test "$("$lab_venv/bin/python" -c 'from lvs_lab import paths; print(paths.STATE_ROOT)')" = "$PWD/.lab" \
  || { echo "packaging: outside a checkout the installed lab must keep its state in ./.lab" >&2; exit 1; }
recipe_hash='from lvs_lab.image import RELEASES, recipe_hash; print(*(recipe_hash(release) for release in RELEASES))'
test "$("$lab_venv/bin/python" -c "$recipe_hash")" = "$(cd lab && ../.venv/bin/python -c "$recipe_hash")" \
  || { echo "packaging: the installed lab's image recipe differs from lab/image (files or modes lost)" >&2; exit 1; }
lab_version=$("$lab_venv/bin/python" -c 'from importlib.metadata import version; print(version("lvs-lab"))')
collection_version=$(.venv/bin/python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
test "$lab_version" = "$collection_version" \
  || { echo "packaging: lab/pyproject.toml's version $lab_version is not galaxy.yml's $collection_version" >&2; exit 1; }
(cd "$project" && molecule syntax -s lab > molecule-syntax.log 2>&1) \
  || { cat "$project/molecule-syntax.log" >&2; echo "packaging: the lab's Molecule template fails molecule syntax" >&2; exit 1; }
echo "packaging: installed the lab from the installed collection, validated topologies, wrote and checked its Molecule template ($((SECONDS - start)) s)"

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

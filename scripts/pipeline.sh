#!/usr/bin/env bash
# Every command the Jenkins pipeline (Jenkinsfile) runs, one stage per subcommand, so the
# same steps run from a shell, from Jenkins and from the Molecule scenarios in the lab:
#
#   scripts/pipeline.sh lint     INVENTORY   yamllint, ansible-lint, syntax check of the playbooks
#   scripts/pipeline.sh validate INVENTORY   parse the inventory, check lvs_virtual_services against host facts
#   scripts/pipeline.sh check    INVENTORY   site.yml --check --diff, saved to $PIPELINE_ARTIFACTS/check-diff.txt
#   scripts/pipeline.sh apply    INVENTORY   site.yml
#   scripts/pipeline.sh verify   INVENTORY   TCP through every VIP, then status.yml as text and as JSON
#   scripts/pipeline.sh junit                check the JUnit reports of the playbook stages exist and parse
#
# PIPELINE_ARTIFACTS (default .build/pipeline) receives check-diff.txt, status.json and junit/*.xml.
# PIPELINE_VERIFY_FROM: the hosts that connect to the VIPs (default: the inventory's clients
# group when it has hosts, else the controller).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/pipeline.sh lint|validate|check|apply|verify INVENTORY, or scripts/pipeline.sh junit" >&2
  exit 2
}

[ $# -ge 1 ] || usage
stage=$1
artifacts=$(realpath -m "${PIPELINE_ARTIFACTS:-.build/pipeline}")
junit_dir="$artifacts/junit"
playbooks=(playbooks/site.yml playbooks/validate.yml playbooks/verify.yml playbooks/status.yml)

if [ "$stage" != junit ]; then
  [ $# -eq 2 ] || usage
  inventory=$2
  [ -e "$inventory" ] || { echo "pipeline: inventory $inventory does not exist" >&2; exit 2; }
fi
mkdir -p "$junit_dir"

# Every playbook run also writes a JUnit report (ansible-core's own junit callback), one file
# per run, for Jenkins' junit step.
playbook() {
  JUNIT_OUTPUT_DIR="$junit_dir" JUNIT_HIDE_TASK_ARGUMENTS=true JUNIT_TASK_CLASS=true \
    ANSIBLE_CALLBACKS_ENABLED=ansible.builtin.junit \
    ansible-playbook -i "$inventory" "$@"
}

case "$stage" in
  lint)
    # The first stage: no report or artifact of an earlier run may be published with this one.
    rm -rf "$junit_dir" "$artifacts/check-diff.txt" "$artifacts/status.json" && mkdir -p "$junit_dir"
    yamllint -s "${playbooks[@]}"
    ansible-lint "${playbooks[@]}"
    for book in "${playbooks[@]}"; do
      ansible-playbook -i "$inventory" --syntax-check "$book"
    done
    ;;
  validate)
    # A file that does not parse as an inventory is an error here, not an empty inventory.
    ANSIBLE_INVENTORY_UNPARSED_FAILED=true ansible-inventory -i "$inventory" --list > /dev/null
    for group in directors real_servers; do
      count=$(ansible -i "$inventory" --list-hosts "$group" 2> /dev/null | awk 'NR > 1' | wc -l)
      [ "$count" -gt 0 ] || { echo "pipeline: the inventory has no hosts in the group $group" >&2; exit 1; }
    done
    playbook playbooks/validate.yml
    ;;
  check)
    # The output is the artifact a person approves, so keep it whole and uncoloured.
    ANSIBLE_FORCE_COLOR=false ANSIBLE_NOCOLOR=true playbook playbooks/site.yml --check --diff \
      2>&1 | tee "$artifacts/check-diff.txt"
    ;;
  apply)
    playbook playbooks/site.yml
    ;;
  verify)
    from=${PIPELINE_VERIFY_FROM:-}
    if [ -z "$from" ]; then
      clients=$(ansible -i "$inventory" --list-hosts clients 2> /dev/null | awk 'NR > 1' | wc -l)
      if [ "$clients" -gt 0 ]; then from=clients; else from=localhost; fi
    fi
    playbook playbooks/verify.yml -e "verify_from=$from"
    playbook playbooks/status.yml
    rm -f "$artifacts/status.json"
    playbook playbooks/status.yml -e status_format=json -e "status_json_dest=$artifacts/status.json"
    python3 - "$artifacts/status.json" <<'PY'
import json, sys
directors = json.load(open(sys.argv[1]))
for name, status in sorted(directors.items()):
    if not status["ipvs_loaded"] or not status["rows"]:
        sys.exit("pipeline: %s has no IPVS services" % name)
    print("pipeline: %s: %d real server row(s) in status.json" % (name, len(status["rows"])))
PY
    ;;
  junit)
    python3 - "$junit_dir" <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ElementTree
reports = sorted(glob.glob(os.path.join(sys.argv[1], "*.xml")))
if not reports:
    sys.exit("pipeline: no JUnit report in %s: run the playbook stages first" % sys.argv[1])
tests = failures = errors = 0
for report in reports:
    root = ElementTree.parse(report).getroot()
    for suite in root.iter("testsuite"):
        tests += int(suite.get("tests", 0))
        failures += int(suite.get("failures", 0))
        errors += int(suite.get("errors", 0))
print("pipeline: %d JUnit report(s), %d test case(s), %d failure(s), %d error(s)" % (len(reports), tests, failures, errors))
sys.exit(1 if failures or errors else 0)
PY
    ;;
  *)
    usage
    ;;
esac

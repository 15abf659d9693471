#!/usr/bin/env bash
# make docs-check: the documentation is right and fresh. antsibull-docs lints every plugin's and
# role's documentation (schema, markup, references to plugins and options, the RST it renders);
# the docsite builds without a warning (links between the guides, their anchors); the committed
# diagrams and ipvsadm -Ln blocks match their sources. Every part runs even after a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=0
part() {
  local name=$1 start=$SECONDS
  shift
  if "$@"; then
    echo "docs-check: $name passed ($((SECONDS - start)) s)"
  else
    echo "docs-check: $name FAILED"
    failed=1
  fi
}
part "antsibull-docs lint" antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
  --validate-collection-refs all --disallow-unknown-collection-refs .
part "docsite build" .venv/bin/python scripts/build-docsite.py
part "diagrams" .venv/bin/python scripts/gen-diagrams.py --check
part "ipvsadm -Ln blocks" .venv/bin/python scripts/gen-guide-captures.py --check
if [ "$failed" -ne 0 ]; then
  echo "docs-check: FAILED (see above); for a stale diagram or ipvsadm -Ln block run make docs and commit docs/"
  exit 1
fi

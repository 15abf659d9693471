"""Inline the lab's real `ipvsadm -Ln` captures into the mode guides.

A guide marks the place with a comment naming the capture file; the fenced block after the
comment is rewritten from that file (docs/captures/<topology>.ipvsadm-Ln.txt, saved by
scripts/docs/capture-ipvsadm.sh in a lab). A capture not taken yet is said so, never made up.

    <!-- capture: docs/captures/dr.ipvsadm-Ln.txt -->

    python scripts/gen-guide-captures.py [--check]
"""

import argparse
import pathlib
import re
import sys

from generated_files import sync

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^<!-- capture: (?P<path>\S+) -->\n(?:```text\n.*?^```\n)?", re.MULTILINE | re.DOTALL)


def block(relative_path):
    capture = ROOT / relative_path
    if capture.exists():
        body = capture.read_text(encoding="utf-8")
    else:
        topology = capture.name.split(".")[0]
        body = "(not captured yet: run scripts/docs/capture-lab.sh %s in the lab, then make docs)\n" % topology
    return "<!-- capture: %s -->\n```text\n%s```\n" % (relative_path, body if body.endswith("\n") else body + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a guide's capture block is stale, write nothing")
    args = parser.parse_args(argv)
    guides = sorted((ROOT / "docs").glob("*.md"))
    outputs = ((guide, MARKER.sub(lambda match: block(match.group("path")), guide.read_text(encoding="utf-8"))) for guide in guides)
    return sync(outputs, args.check, "stale ipvsadm -Ln blocks (a capture changed)")

if __name__ == "__main__":
    sys.exit(main())

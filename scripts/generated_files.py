# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write generated documentation files, or check them for freshness (make docs / docs-check)."""

import sys


def sync(outputs, check, stale_message):
    """Write each (path, text) whose file differs; with check, write nothing and fail on any.

    Returns the exit status: 1 when check found stale files, else 0.
    """
    stale = []
    for target, text in outputs:
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if check:
            stale.append(str(target))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print("wrote %s" % target)
    if stale:
        print("%s: %s; run make docs" % (stale_message, ", ".join(stale)), file=sys.stderr)
        return 1
    return 0

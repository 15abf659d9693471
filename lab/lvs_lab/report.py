# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the lab reports to its user: one-message errors, progress lines, the tail of a log."""
from __future__ import absolute_import, division, print_function

import os

__metaclass__ = type


class LabError(Exception):
    """A failure reported to the user as one message, without a traceback."""


def log(message):
    print(message, flush=True)


def tail(path, lines):
    try:
        with open(path, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            text = handle.read().decode('utf-8', 'replace')
    except OSError:
        return '(no %s)' % path
    return '\n'.join(text.splitlines()[-lines:])

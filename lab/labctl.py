#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's command line run from the collection's own tree: lab/labctl.py --help.

The lab is the package lvs_lab beside this script (lvs_lab/cli.py has the subcommands).
Scripts that need the Debian mirror import this module for apt_mirror.
"""
from __future__ import absolute_import, division, print_function

import sys

from lvs_lab.cli import main
from lvs_lab.image import apt_mirror

__metaclass__ = type
__all__ = ['apt_mirror', 'main']

if __name__ == '__main__':
    sys.exit(main())

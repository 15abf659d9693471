# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""python -m lvs_lab: the lab's command line, as the lvs-lab command."""
from __future__ import absolute_import, division, print_function

import sys

from .cli import main

__metaclass__ = type

sys.exit(main(prog='lvs-lab'))

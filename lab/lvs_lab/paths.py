# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the lab finds its image recipe and topologies, and where it keeps its state."""
from __future__ import absolute_import, division, print_function

import os

__metaclass__ = type

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(LAB_DIR)
STATE_ROOT = os.environ.get('LVS_LAB_STATE_DIR', os.path.join(REPO_DIR, '.lab'))
IMAGE_RECIPE_DIR = os.path.join(LAB_DIR, 'image')
TOPOLOGY_DIR = os.path.join(LAB_DIR, 'topologies')

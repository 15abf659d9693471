# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the lab finds its image recipe, topologies and Molecule template, and where it keeps its state."""
from __future__ import absolute_import, division, print_function

import os

__metaclass__ = type

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# In the collection's tree the data sits beside this package (lab/image, lab/topologies,
# lab/template); an installed lab (pip install lab/) carries it inside the package.
INSTALLED = os.path.isdir(os.path.join(PACKAGE_DIR, 'topologies'))
DATA_DIR = PACKAGE_DIR if INSTALLED else os.path.dirname(PACKAGE_DIR)
IMAGE_RECIPE_DIR = os.path.join(DATA_DIR, 'image')
TOPOLOGY_DIR = os.path.join(DATA_DIR, 'topologies')
TEMPLATE_DIR = os.path.join(DATA_DIR, 'template')
# A source checkout of the collection (the Makefile is not shipped in the collection tarball)
# keeps every lab's state in its own .lab/, whatever directory the lab runs from; anywhere
# else (an installed lab, an installed collection's lab/) the state is .lab/ of the current
# directory, so each project has its own. LVS_LAB_STATE_DIR overrides both.
REPO_DIR = os.path.dirname(DATA_DIR)
CHECKOUT = not INSTALLED and os.path.isfile(os.path.join(REPO_DIR, 'Makefile'))
STATE_ROOT = os.environ.get('LVS_LAB_STATE_DIR', os.path.join(REPO_DIR if CHECKOUT else os.getcwd(), '.lab'))
# How the user runs the lab, for the commands that messages suggest.
COMMAND = 'lab/labctl.py' if CHECKOUT else 'lvs-lab'

"""Make the checkout importable as ansible_collections.lvs.topology for pytest.

The collection lives at the repository root, so a symlink tree under .build/ gives Python
the namespace path that Ansible's collection loader would give it.
"""

import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "lvs", "topology")

if not os.path.islink(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(ROOT, LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

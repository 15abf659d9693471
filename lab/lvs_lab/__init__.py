# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lvs.topology lab: QEMU guests with Debian's kernel on vde_switch segments, from topology files."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

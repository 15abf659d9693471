# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options shared by the filters that read the lvs_virtual_services data model."""

    # The data model every filter takes as its input.
    DOCUMENTATION = r"""
options:
  _input:
    description:
      - The lvs_virtual_services list (see docs/roles.md).
      - A service's C(forwarding_method) (V(dr), V(nat), V(tun) or V(fullnat); unset, V(dr)) is the
        default of its real servers; a real server may set its own C(real_servers[].forwarding_method)
        of the same names, as C(ipvsadm -a) takes C(-g), C(-i) or C(-m) per real server, so one pool may
        mix a rack on the director's segment served by DR with a remote site served by TUN. Each
        real server is then checked, translated and set up by its own method.
      - Its values are checked by the rules of the IPVS modules (and the model's own for names and
        keepalived options); a filter that returns parts of the model fails with every problem found.
    type: list
    elements: dict
    required: true
"""

    # The inventory a filter needs to resolve real servers and directors to addresses.
    INVENTORY = r"""
options:
  hostvars:
    description: The C(hostvars) magic variable; the directors' facts must be gathered.
    type: dict
    required: true
  directors:
    description: Inventory names of the directors, usually C(groups['directors']).
    type: list
    elements: str
    required: true
"""

# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options and notes shared by the modules that set kernel parameters (sysctl)."""

    DOCUMENTATION = r"""
options:
  persistent:
    description:
      - Also keep the settings across reboots in the module's own file under C(/etc/sysctl.d/),
        which C(systemd-sysctl) (and C(sysctl --system)) apply at boot.
      - V(false) changes the running kernel only and leaves the file alone.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Reports what would change; writes nothing under C(/proc/sys) or C(/etc/sysctl.d).
  diff_mode:
    support: full
    description: The C(key = value) lines of the running kernel and the text of the sysctl.d file, before and after.
notes:
  - Runtime values are written under C(/proc/sys) directly, so the C(sysctl) tool is not needed.
  - Each purpose has one file owned by one module, rewritten whole (atomically) and only when its
    text changes, C(/etc/sysctl.d/90-lvs-topology-arp.conf) for M(lvs.topology.arp_suppress) and
    C(/etc/sysctl.d/90-lvs-topology-director.conf) for M(lvs.topology.lvs_sysctl). Separate files
    mean no module can drop another one's keys; inside a file, a run merges the keys it sets and
    removes the keys it removes, so several tasks (one per interface) can share it. The file is
    deleted when its last key goes.
  - Settings for one interface (C(net.ipv4.conf.tunl0.*)) are applied at boot when the device
    appears, by the udev rule of systemd that runs C(systemd-sysctl) for every new network device.
"""

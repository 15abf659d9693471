# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the IPVS fixtures: real ipvsadm output captured on a lab VM, and the YAML case tables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "ipvs")


def captured(name):
    """A captured output without its '#' header (how and where it was captured)."""
    with open(os.path.join(FIXTURES, name)) as handle:
        return "".join(line for line in handle if not line.startswith("#"))


def cases(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return yaml.safe_load(handle)

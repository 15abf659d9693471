# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the IPVS fixtures: real ipvsadm output captured on a lab VM, and the YAML case tables;
word a refused value as the running ansible-core does."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

from ansible.module_utils.common.validation import check_type_int

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "ipvs")


def captured(name):
    """A captured output without its '#' header (how and where it was captured)."""
    with open(os.path.join(FIXTURES, name)) as handle:
        return "".join(line for line in handle if not line.startswith("#"))


def cases(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return yaml.safe_load(handle)


def int_refusal(value):
    """ansible-core's reason for refusing value as an int, which the collection's sentence quotes.

    ansible-core 2.19 names the value ("'abc'" cannot be converted...), older releases its type.
    """
    try:
        check_type_int(value)
    except TypeError as error:
        return str(error)
    raise AssertionError("%r is a valid int" % (value,))

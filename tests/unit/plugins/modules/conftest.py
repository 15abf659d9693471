# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the module tests: the kernel as the modules see it, ipvs_table's record and the host lock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.lvs.topology.plugins.module_utils import _host, _lock
from ansible_collections.lvs.topology.plugins.module_utils.ipvs import host as ipvs_host, record as ipvs_record


@pytest.fixture(autouse=True)
def memo_path(monkeypatch, tmp_path):
    """ipvs_table's record of the last converged table, in a temporary directory."""
    path = str(tmp_path / "lvs-topology" / "ipvs_table.memo")
    monkeypatch.setattr(ipvs_record, "MEMO_PATH", path)
    return path


@pytest.fixture(autouse=True)
def lock_path(monkeypatch, tmp_path_factory):
    """The host lock, in a temporary directory of its own (tests count the files in tmp_path)."""
    path = str(tmp_path_factory.mktemp("run") / "lvs-topology" / "lock")
    monkeypatch.setattr(_lock, "LOCK_PATH", path)
    return path


@pytest.fixture
def kernel(monkeypatch):
    """A kernel with IPVS loaded; .missing names kernel modules that are not loaded yet."""
    class Kernel(object):
        missing = set()
        ipvs = True
    state = Kernel()
    monkeypatch.setattr(_host, "kernel_module_loaded", lambda name: name not in state.missing)
    monkeypatch.setattr(ipvs_host.IpvsHost, "ipvs_present", lambda self: state.ipvs)
    return state

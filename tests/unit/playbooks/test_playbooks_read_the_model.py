# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operations playbooks read the model's defaults from the collection's filters (the
normalised services, the real-server entries with their resolved ports); they never restate
them. Their expressions are rendered here as the playbooks hold them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

from jinja2.nativetypes import NativeEnvironment

from ansible.plugins.filter.core import FilterModule as CoreFilters
from ansible.plugins.filter.mathstuff import FilterModule as MathFilters
from ansible.plugins.test.core import TestModule as CoreTests
from ansible_collections.lvs.topology.plugins.filter.lvs_normalized_services import lvs_normalized_services
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import real_server_entries

PLAYBOOKS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks")
MODEL = [
    {"name": "web", "vip": "192.0.2.100", "port": 80, "real_servers": [{"host": "192.0.2.21"}]},
    {"name": "api", "vip": "192.0.2.101", "port": 8443, "protocol": "tcp", "forwarding_method": "nat",
     "real_servers": [{"host": "192.0.2.21", "port": 443}]},
    {"name": "dns", "vip": "192.0.2.102", "port": 53, "protocol": "udp", "real_servers": [{"host": "192.0.2.21"}]},
    {"name": "marked", "vip": "192.0.2.103", "protocol": "fwmark", "fwmark": 7, "real_servers": [{"host": "192.0.2.21"}]},
]


def render(expression, **context):
    environment = NativeEnvironment()
    environment.filters.update(CoreFilters().filters())
    environment.filters.update(MathFilters().filters())
    environment.filters["lvs.topology.lvs_normalized_services"] = lvs_normalized_services
    environment.tests.update(CoreTests().tests())
    return environment.from_string(expression).render(context)


def tasks(path, play=0):
    with open(os.path.join(PLAYBOOKS, path)) as handle:
        return dict((task["name"], task) for task in yaml.safe_load(handle)[play]["tasks"])


def test_verify_connects_to_every_tcp_service_the_tcp_default_included():
    connect = tasks("verify.yml")["Connect to VIP:port"]
    services = render(connect["loop"], _verify_services=MODEL)
    assert [(service["name"], service["vip"], service["port"]) for service in services] == [
        ("web", "192.0.2.100", 80), ("api", "192.0.2.101", 8443)]


def test_rolling_maintenance_waits_on_each_real_server_port_as_the_model_resolves_it():
    wait = tasks("rolling_maintenance.yml", play=1)["Wait until every director reaches the real server on its ports"]
    entries = real_server_entries(MODEL, {}, [], "192.0.2.21")
    items = render(wait["loop"], groups={"directors": ["lb01"]}, _ops_entries=entries)
    ports = [render(wait["ansible.builtin.wait_for"]["port"], item=item) for item in items]
    labels = [render(wait["loop_control"]["label"], item=item) for item in items]
    assert ports == [80, 443]
    assert labels == ["lb01 -> 192.0.2.21:80 (web)", "lb01 -> 192.0.2.21:443 (api)"]

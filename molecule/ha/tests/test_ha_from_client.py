# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify the keepalived pair from the client: requests through the VIP reach both web
servers; exactly one director holds the VIP; both directors hold the same IPVS table (the
model's) and run the IPVS sync daemon of their VRRP role. The directors are only read."""

from __future__ import absolute_import, division, print_function

import collections
import time

import pytest

testinfra_hosts = ["client"]

REQUESTS = 20
# keepalived elects the master, starts the sync daemons and fills the tables on its own time
# after a start or a failover, which a slow host stretches: how long the pair may take to
# settle before the checks below read it.
SETTLE_SECONDS = 180


@pytest.fixture(scope="module")
def inventory(host):
    return host.ansible.get_variables()


def other_host(host, name):
    return host.get_host("ansible://%s" % name, ansible_inventory=host.backend.ansible_inventory)


@pytest.fixture(scope="module")
def service(inventory):
    return inventory["lvs_virtual_services"][0]


@pytest.fixture(scope="module")
def directors(host, inventory):
    return dict((name, other_host(host, name)) for name in inventory["groups"]["directors"])


def holds_vip(director, service):
    return director.run("ip -o addr show to %s" % service["vip"]).stdout.strip() != ""


def model_table(host, service):
    rips = [other_host(host, rs["host"]).ansible.get_variables()["lab_nics"][0]["ipv4"].split("/")[0] for rs in service["real_servers"]]
    key = "-t %s:%d" % (service["vip"], service["port"])
    return set(["-A %s -s %s" % (key, service["scheduler"])] + ["-a %s -r %s:%d -g -w 1" % (key, rip, service["port"]) for rip in rips])


def pair_state(directors, service):
    """Per director: whether it holds the VIP, its sync daemons and its table."""
    return dict((name, (holds_vip(director, service), director.check_output("ipvsadm -L --daemon"),
                        set(director.check_output("ipvsadm -Sn").splitlines())))
                for name, director in directors.items())


@pytest.fixture(scope="module", autouse=True)
def settled(host, directors, service):
    """Wait (up to SETTLE_SECONDS) until one director holds the VIP, each runs the sync daemon
    of its role and holds the model table; the tests then check that state. Not settled in
    time: the tests run anyway and say what is wrong."""
    wanted = model_table(host, service)
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        state = pair_state(directors, service)
        if (sum(1 for holds, _daemons, _table in state.values() if holds) == 1
                and all(("master" if holds else "backup") + " sync daemon" in daemons and table == wanted
                        for holds, daemons, table in state.values())):
            return
        time.sleep(2)


def test_exactly_one_director_holds_the_vip(directors, service):
    holders = [name for name, director in directors.items() if holds_vip(director, service)]
    assert len(holders) == 1, holders


def test_requests_through_the_vip_reach_both_web_servers_in_turn(host, service):
    loop = "for i in $(seq %d); do curl -sS --max-time 5 http://%s:%d/ || echo FAILED; done" % (REQUESTS, service["vip"], service["port"])
    answers = collections.Counter(host.check_output(loop).split())
    wanted = set(rs["host"] for rs in service["real_servers"])
    assert set(answers) == wanted, answers
    for name in wanted:
        assert abs(answers[name] - REQUESTS / len(wanted)) <= 1, answers


def test_both_directors_hold_the_model_table(host, directors, service):
    wanted = model_table(host, service)
    for name, director in directors.items():
        assert set(director.check_output("ipvsadm -Sn").splitlines()) == wanted, name


def test_sync_daemons_follow_the_vrrp_roles(directors, service):
    for name, director in directors.items():
        daemons = director.check_output("ipvsadm -L --daemon")
        role = "master" if holds_vip(director, service) else "backup"
        assert "%s sync daemon" % role in daemons, (name, daemons)


def test_keepalived_runs_with_a_valid_configuration(directors):
    for name, director in directors.items():
        assert director.service("keepalived").is_running, name
        assert director.service("keepalived").is_enabled, name
        assert director.run("keepalived --config-test").rc == 0, name

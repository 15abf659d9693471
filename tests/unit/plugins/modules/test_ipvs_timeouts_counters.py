# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvs_timeouts and ipvs_counters with ipvsadm answered as on a lab VM: the timeouts by a fake
kernel that prints them in the captured `ipvsadm -L --timeout` format and applies --set as the
kernel does (0: unchanged), the counters from the captured `ipvsadm -Ln --stats --exact`."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest

from host_module_harness import ModuleFail, run_module
from test_ipvs_modules import IPVSADM, MODPROBE, FakeIpvsadm

from ansible_collections.lvs.topology.plugins.modules import ipvs_counters, ipvs_timeouts
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.ipvs_fixtures import captured

TIMEOUT_LINE = captured("timeout.txt")
STATS = captured("stats_all_features.txt")


class FakeTimeoutKernel(FakeIpvsadm):
    """ipvsadm -L --timeout and --set against timeouts held here, printed in the captured line's format."""

    def __init__(self, refuse=None, ignore_set=False):
        super(FakeTimeoutKernel, self).__init__()
        self.timeouts = [int(value) for value in re.findall(r"\d+", TIMEOUT_LINE)]
        self.refuse = refuse
        self.ignore_set = ignore_set

    def __call__(self, module, argv, data=None, **kwargs):
        if argv[1:] == ["-L", "--timeout"]:
            self.calls.append((list(argv), data))
            values = iter(self.timeouts)
            return 0, re.sub(r"\d+", lambda match: str(next(values)), TIMEOUT_LINE), ""
        if argv[1:2] == ["--set"]:
            self.calls.append((list(argv), data))
            if self.refuse:
                return 1, "", self.refuse
            if not self.ignore_set:
                self.timeouts = [old if new == "0" else int(new) for old, new in zip(self.timeouts, argv[2:])]
            return 0, "", ""
        return super(FakeTimeoutKernel, self).__call__(module, argv, data, **kwargs)

    def sets(self):
        return [argv[1:] for argv, data in self.calls if argv[1:2] == ["--set"]]


def test_the_captured_line_is_read_as_the_kernel_defaults(kernel):
    result = run_module(ipvs_timeouts.main, dict(state="gathered"), FakeTimeoutKernel())
    assert result["timeouts"]["before"] == result["timeouts"]["after"] == {"tcp": 900, "tcpfin": 120, "udp": 300}
    assert result["changed"] is False and result["commands"] == []


def test_only_the_given_timeout_changes_and_a_rerun_changes_nothing(kernel):
    fake = FakeTimeoutKernel()
    first = run_module(ipvs_timeouts.main, dict(tcp=7200), fake)
    assert first["changed"] is True
    assert first["commands"] == ["--set 7200 0 0"] and fake.sets() == [["--set", "7200", "0", "0"]]
    assert first["timeouts"] == {"before": {"tcp": 900, "tcpfin": 120, "udp": 300}, "after": {"tcp": 7200, "tcpfin": 120, "udp": 300}}
    assert fake.timeouts == [7200, 120, 300]
    assert first["diff"] == {"before": "tcp: 900\ntcpfin: 120\nudp: 300\n", "after": "tcp: 7200\ntcpfin: 120\nudp: 300\n"}
    again = run_module(ipvs_timeouts.main, dict(tcp=7200, udp=300), fake)
    assert again["changed"] is False and again["commands"] == [] and len(fake.sets()) == 1


def test_a_value_already_set_goes_to_ipvsadm_as_unchanged(kernel):
    fake = FakeTimeoutKernel()
    result = run_module(ipvs_timeouts.main, dict(tcp=900, tcpfin=30, udp=60), fake)
    assert fake.sets() == [["--set", "0", "30", "60"]] and fake.timeouts == [900, 30, 60]
    assert result["timeouts"]["after"] == {"tcp": 900, "tcpfin": 30, "udp": 60}


def test_check_mode_reports_the_change_and_runs_no_set(kernel):
    fake = FakeTimeoutKernel()
    result = run_module(ipvs_timeouts.main, dict(udp=60), fake, check_mode=True)
    assert result["changed"] is True and result["commands"] == ["--set 0 0 60"]
    assert result["timeouts"]["after"]["udp"] == 60
    assert fake.sets() == [] and fake.timeouts == [900, 120, 300]


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_without_ip_vs_the_module_loads_it_and_starts_from_its_values(kernel, check_mode):
    kernel.ipvs, kernel.missing = False, {"ip_vs"}
    fake = FakeTimeoutKernel()
    result = run_module(ipvs_timeouts.main, dict(tcp=900), fake, check_mode=check_mode)
    # Loading ip_vs is the change: its timeouts are already the ones asked for.
    assert result["changed"] is True and result["ipvs_loaded"] is False and result["commands"] == []
    assert result["timeouts"]["before"] == {"tcp": 900, "tcpfin": 120, "udp": 300}
    assert [argv for argv, data in fake.calls if argv[0] == MODPROBE] == ([] if check_mode else [[MODPROBE, "ip_vs"]])


def test_gathered_without_ip_vs_loads_nothing(kernel):
    kernel.ipvs = False
    fake = FakeTimeoutKernel()
    result = run_module(ipvs_timeouts.main, dict(state="gathered"), fake)
    assert result["changed"] is False and fake.calls == []


@pytest.mark.parametrize("args, sentence", [
    (dict(tcp=0), "tcp 0 cannot be set: ipvsadm --set and the kernel read 0 as 'leave this timeout unchanged'; leave tcp out"),
    (dict(udp=2678401), "udp must be from 1 to 2678400, got 2678401."),
    (dict(tcpfin=-5), "tcpfin must be from 1 to 2678400, got -5."),
    (dict(), "state is present but any of the following are missing: tcp, tcpfin, udp"),
    (dict(state="gathered", tcp=60, udp=60), "tcp, udp do not apply with state gathered"),
])
def test_bad_timeouts_are_refused_before_anything_is_read(kernel, args, sentence):
    fake = FakeTimeoutKernel()
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_timeouts.main, args, fake)
    assert sentence in failure.value.result["msg"]
    assert fake.calls == []


def test_a_refused_set_fails_with_ipvsadm_s_reason(kernel):
    fake = FakeTimeoutKernel(refuse="Invalid argument\n")
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_timeouts.main, dict(tcp=2500000), fake)
    assert failure.value.result["msg"].endswith("failed: Invalid argument")
    assert failure.value.result["cmd"] == [IPVSADM, "--set", "2500000", "0", "0"]


def test_a_set_that_did_not_take_effect_fails(kernel):
    fake = FakeTimeoutKernel(ignore_set=True)
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_timeouts.main, dict(tcp=7200), fake)
    assert failure.value.result["msg"] == (
        "ipvsadm --set 7200 0 0 left the timeouts at tcp 900, tcpfin 120, udp 300 instead of tcp 7200, tcpfin 120, udp 300.")


def counters_fake():
    return FakeIpvsadm({("-Ln", "--stats", "--exact"): STATS})


def zeroes(fake):
    return [argv[1:] for argv, data in fake.calls if argv[1:2] == ["-Z"]]


def test_one_service_is_zeroed_and_its_counters_returned(kernel):
    fake = counters_fake()
    result = run_module(ipvs_counters.main, dict(address="192.0.2.102", port=80), fake)
    assert result["changed"] is True and result["commands"] == ["-Z -t 192.0.2.102:80"]
    assert zeroes(fake) == [["-Z", "-t", "192.0.2.102:80"]]
    [web] = result["counters"]
    assert (web["protocol"], web["address"], web["port"]) == ("tcp", "192.0.2.102", 80)
    assert web["stats"] == {"connections": 3, "packets_in": 3, "packets_out": 3, "bytes_in": 180, "bytes_out": 264}
    counted = [server for server in web["real_servers"] if server["stats"]["connections"]]
    assert [(server["address"], server["port"]) for server in counted] == [("203.0.113.17", 80)]
    assert len(web["real_servers"]) == 8


def test_every_service_is_zeroed_without_a_selector(kernel):
    fake = counters_fake()
    result = run_module(ipvs_counters.main, dict(), fake)
    assert result["commands"] == ["-Z"] and zeroes(fake) == [["-Z"]]
    listed = [line.split()[0] for line in STATS.splitlines() if line.split()[:1] in (["TCP"], ["UDP"], ["SCTP"], ["FWM"])]
    assert len(result["counters"]) == len(listed)
    # ipvsadm prints mark 4294967295 as -1; it is returned as the mark it is.
    assert {"protocol": "fwmark", "fwmark": 4294967295, "family": "ipv4"}.items() <= result["counters"][0].items()


@pytest.mark.parametrize("args, words", [
    (dict(protocol="fwmark", fwmark=8, family="ipv6"), ["-f", "8", "-6"]),
    (dict(protocol="udp", address="192.0.2.102", port=53), ["-u", "192.0.2.102:53"]),
    (dict(protocol="sctp", address="192.0.2.102", port=3868), ["--sctp-service", "192.0.2.102:3868"]),
    (dict(address="2001:0db8::0100", port=443), ["-t", "[2001:db8::100]:443"]),
])
def test_each_kind_of_service_is_selected_as_ipvsadm_names_it(kernel, args, words):
    fake = counters_fake()
    result = run_module(ipvs_counters.main, args, fake)
    assert zeroes(fake) == [["-Z"] + words] and len(result["counters"]) == 1


def test_check_mode_reads_and_reports_changed_without_zeroing(kernel):
    fake = counters_fake()
    result = run_module(ipvs_counters.main, dict(address="192.0.2.102", port=80), fake, check_mode=True)
    assert result["changed"] is True and result["counters"][0]["stats"]["connections"] == 3
    assert zeroes(fake) == []


def test_a_service_not_in_the_table_fails_and_nothing_is_zeroed(kernel):
    fake = counters_fake()
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_counters.main, dict(address="192.0.2.102", port=8080), fake)
    assert failure.value.result["msg"] == "tcp 192.0.2.102:8080 is not in the IPVS table; nothing was zeroed."
    assert zeroes(fake) == []


def test_without_ip_vs_there_is_nothing_to_zero_and_nothing_is_loaded(kernel):
    kernel.ipvs = False
    fake = counters_fake()
    result = run_module(ipvs_counters.main, dict(), fake)
    assert (result["changed"], result["counters"], fake.calls) == (False, [], [])
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_counters.main, dict(protocol="fwmark", fwmark=7), fake)
    assert failure.value.result["msg"] == "fwmark 7 (ipv4) is not in the IPVS table (ip_vs is not loaded); nothing was zeroed."
    assert fake.calls == []


@pytest.mark.parametrize("args, sentence", [
    (dict(family="ipv6"), "family selects no service on its own"),
    (dict(port=80), "missing parameter(s) required by 'port': address"),
    (dict(fwmark=7), "fwmark applies only with protocol fwmark, not with protocol tcp."),
    (dict(protocol="udp"), "protocol is udp but all of the following are missing: address, port"),
    (dict(address="192.0.2.300", port=80), "is not a valid IPv4 or IPv6 address."),
])
def test_a_bad_selector_is_refused_before_anything_is_read(kernel, args, sentence):
    fake = counters_fake()
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_counters.main, args, fake)
    assert sentence in failure.value.result["msg"]
    assert fake.calls == []

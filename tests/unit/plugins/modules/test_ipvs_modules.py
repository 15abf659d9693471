# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IPVS modules' main flows with ipvsadm answered from output captured on a lab VM."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from host_module_harness import ModuleFail, run_module

from ansible_collections.lvs.topology.plugins.module_utils.ipvs import host as ipvs_host
from ansible_collections.lvs.topology.plugins.modules import ipvs_info, ipvs_real_server, ipvs_service, ipvs_table
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.ipvs_fixtures import captured

IPVSADM = "/usr/sbin/ipvsadm"
MODPROBE = "/usr/sbin/modprobe"
READS = (("-Sn",), ("-Ln",), ("-L",), ("-Lcn",))
EMPTY_THRESHOLDS = captured("thresholds_empty.txt")


class FakeIpvsadm(object):
    """run_command for ipvsadm and modprobe: canned listings, recorded changes, scripted failures.

    outputs maps an ipvsadm argument tuple (after the binary) to stdout; fail maps the first
    word of a changing call ('-R', '-A', ...) or 'modprobe' to (rc, stderr).
    """

    def __init__(self, outputs=None, fail=None):
        self.outputs = {("-Sn",): "", ("-Ln", "--thresholds"): EMPTY_THRESHOLDS}
        self.outputs.update(outputs or {})
        self.fail = dict(fail or {})
        self.calls = []

    def __call__(self, module, argv, data=None, **kwargs):
        self.calls.append((list(argv), data))
        if argv[0] == MODPROBE:
            rc, err = self.fail.get("modprobe", (0, ""))
            return rc, "", err
        arguments = tuple(argv[1:])
        if arguments in self.outputs:
            return 0, self.outputs[arguments], ""
        if arguments[:1] in READS:
            raise AssertionError("unexpected read %r" % (argv,))
        rc, err = self.fail.pop(arguments[0], (0, ""))
        return rc, "", err

    def changes(self):
        """The calls that change something: everything but the listings."""
        return [(argv, data) for argv, data in self.calls if argv[0] == MODPROBE or tuple(argv[1:2]) not in READS]


def live(name="all_features"):
    """The captured table: ipvsadm -Sn and -Ln --thresholds of the same VM state."""
    return {("-Sn",): captured("save_%s.txt" % name), ("-Ln", "--thresholds"): captured("thresholds_%s.txt" % name)}


def test_service_create_is_one_argv_call(kernel):
    fake = FakeIpvsadm()
    result = run_module(ipvs_service.main, dict(address="192.0.2.100", port=80, scheduler="wrr", persistence_timeout=20), fake)
    assert result["changed"] is True
    assert result["commands"] == ["-A -t 192.0.2.100:80 -s wrr -p 20"]
    assert fake.changes() == [([IPVSADM, "-A", "-t", "192.0.2.100:80", "-s", "wrr", "-p", "20"], None)]
    assert result["diff"] == {"before": "", "after": "-A -t 192.0.2.100:80 -s wrr -p 20\n"}


def test_check_mode_runs_nothing(kernel):
    fake = FakeIpvsadm()
    result = run_module(ipvs_service.main, dict(address="192.0.2.100", port=80), fake, check_mode=True)
    assert result["changed"] is True
    assert result["commands"] == ["-A -t 192.0.2.100:80 -s wlc"]
    assert fake.changes() == []


def test_captured_service_and_pool_is_unchanged(kernel):
    """Thresholds come from --thresholds (the save format omits them) and match."""
    fake = FakeIpvsadm(live())
    pool = [
        dict(address="192.0.2.11", upper_threshold=100, lower_threshold=50),
        dict(address="198.51.100.12", port=8080, forwarding_method="nat", weight=2),
        dict(address="203.0.113.13", forwarding_method="tun", weight=3),
        dict(address="203.0.113.14", forwarding_method="tun", tunnel_type="gue", tunnel_port=6080, tunnel_checksum="csum"),
        dict(address="203.0.113.15", forwarding_method="tun", tunnel_type="gue", tunnel_port=6081, tunnel_checksum="remcsum"),
        dict(address="203.0.113.16", forwarding_method="tun", tunnel_type="gre"),
        dict(address="203.0.113.17", forwarding_method="tun", tunnel_type="gre", tunnel_checksum="csum"),
        dict(address="203.0.113.18", weight=0),
    ]
    result = run_module(ipvs_service.main, dict(address="192.0.2.102", port=80, scheduler="wrr", persistence_timeout=20,
                                                real_servers=pool), fake)
    assert result["changed"] is False
    assert result["commands"] == []
    assert fake.changes() == []


def test_gathered_config_fed_back_overridden_changes_nothing(kernel):
    fake = FakeIpvsadm(live())
    gathered = run_module(ipvs_table.main, dict(state="gathered"), fake)["gathered"]
    assert len(gathered) == 25
    assert sum(len(service["real_servers"]) for service in gathered) == 28
    result = run_module(ipvs_table.main, dict(state="overridden", config=gathered), fake)
    assert (result["changed"], result["commands"], fake.changes()) == (False, [], [])


def test_config_as_json_text_is_the_same_table(kernel):
    """The director role passes config as JSON text: it must mean exactly the list."""
    fake = FakeIpvsadm(live())
    gathered = run_module(ipvs_table.main, dict(state="gathered"), fake)["gathered"]
    result = run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(gathered)), fake)
    assert (result["changed"], result["commands"], fake.changes()) == (False, [], [])
    pooled = [service for service in gathered if service["real_servers"]][0]
    pooled["real_servers"][0]["weight"] += 1
    as_list = run_module(ipvs_table.main, dict(state="overridden", config=gathered), FakeIpvsadm(live()))
    as_text = run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(gathered)), FakeIpvsadm(live()))
    assert as_text["commands"] == as_list["commands"] and len(as_list["commands"]) == 1


@pytest.mark.parametrize("text, message", [
    ("[{\"address\": ", "config is neither a list of services nor JSON text of one"),
    ("{\"address\": \"192.0.2.1\"}", "config must be a list of services, got dict."),
    ("[\"192.0.2.1\"]", "config[0] must be a dictionary, got '192.0.2.1'."),
])
def test_config_text_that_is_no_list_of_services_changes_nothing(kernel, text, message):
    fake = FakeIpvsadm(live())
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_table.main, dict(state="overridden", config=text), fake)
    assert failure.value.result["msg"].startswith(message)
    assert fake.changes() == []


EMPTYING_REFUSED = {
    "overridden": "config is empty, so state overridden would delete all 25 services of the IPVS table; "
                  "set allow_empty_table=true to empty the table on purpose.",
    "deleted": "config is empty, so state deleted would delete all 25 services of the IPVS table; "
               "list the services to delete in config, or set allow_empty_table=true to empty the table on purpose.",
}


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("args", [
    dict(state="overridden", config=[]), dict(state="overridden", config="[]"), dict(state="overridden", config=" [ ] "),
    dict(state="deleted"), dict(state="deleted", config=[]), dict(state="deleted", config="[]", allow_empty_table=False),
], ids=["overridden-list", "overridden-json", "overridden-json-blanks", "deleted-no-config", "deleted-list", "deleted-json"])
def test_an_empty_config_that_would_empty_the_table_is_refused(kernel, memo_path, args, check_mode):
    """Check mode predicts the real run: the same sentence, and neither runs anything."""
    fake = FakeIpvsadm(live())
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_table.main, args, fake, check_mode=check_mode)
    assert failure.value.result["msg"] == EMPTYING_REFUSED[args["state"]]
    assert fake.changes() == [] and not os.path.exists(memo_path)


def test_the_only_service_is_named_so(kernel):
    fake = FakeIpvsadm({("-Sn",): "-A -t 192.0.2.100:80 -s wlc\n"})
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_table.main, dict(state="overridden", config=[]), fake)
    assert failure.value.result["msg"].startswith("config is empty, so state overridden would delete the only service of the IPVS table;")


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("state", ["overridden", "deleted"])
def test_allow_empty_table_empties_it(kernel, state, check_mode):
    fake = FakeIpvsadm(live())
    result = run_module(ipvs_table.main, dict(state=state, config=[], allow_empty_table=True), fake, check_mode=check_mode)
    assert result["changed"] is True
    assert len(result["commands"]) == 25 and all(line.startswith("-D ") for line in result["commands"])
    assert result["diff"]["after"] == ""
    assert fake.changes() == ([] if check_mode else [([IPVSADM, "-R"], "".join(line + "\n" for line in result["commands"]))])


@pytest.mark.parametrize("allow_empty_table", [False, True])
@pytest.mark.parametrize("state", ["overridden", "deleted"])
def test_an_empty_config_on_an_empty_table_changes_nothing(kernel, state, allow_empty_table):
    for check_mode in (True, False):
        fake = FakeIpvsadm()
        result = run_module(ipvs_table.main, dict(state=state, config=[], allow_empty_table=allow_empty_table), fake, check_mode=check_mode)
        assert (result["changed"], result["commands"], fake.changes()) == (False, [], [])


@pytest.mark.parametrize("state", ["merged", "replaced"])
def test_an_empty_config_that_changes_nothing_needs_no_permission(kernel, state):
    fake = FakeIpvsadm(live())
    result = run_module(ipvs_table.main, dict(state=state, config=[]), fake)
    assert (result["changed"], result["commands"], fake.changes()) == (False, [], [])


def test_a_config_that_lists_services_is_not_asked_for_permission(kernel):
    """overridden with one service deletes the other 24, as it always has: the model says what stays."""
    fake = FakeIpvsadm(live())
    result = run_module(ipvs_table.main, dict(state="overridden", config=[dict(address="192.0.2.100", port=80)]), fake)
    assert result["changed"] is True and result["diff"]["after"].startswith("-A -t 192.0.2.100:80 -s wlc")


def test_no_ipvsadm_fails_before_anything_runs(kernel):
    fake = FakeIpvsadm()
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_table.main, dict(state="overridden", config=[]), fake, binaries=("modprobe",))
    assert "ipvsadm" in failure.value.result["msg"]
    assert fake.calls == []


def test_many_operations_go_as_one_batch_on_stdin(kernel):
    fake = FakeIpvsadm(live())
    result = run_module(ipvs_table.main, dict(state="overridden", config=[
        dict(address="192.0.2.102", port=80, scheduler="wrr", persistence_timeout=20,
             real_servers=[dict(address="192.0.2.11", weight=5, upper_threshold=100, lower_threshold=50)]),
        dict(address="192.0.2.200", port=80, real_servers=[dict(address="192.0.2.11")]),
    ]), fake)
    batch = [
        "-A -t 192.0.2.200:80 -s wlc",
        "-e -t 192.0.2.102:80 -r 192.0.2.11:80 -g -w 5 -x 100 -y 50",
        "-a -t 192.0.2.200:80 -r 192.0.2.11:80 -g -w 1",
    ]
    assert result["commands"][:3] == batch
    deletes = result["commands"][3:]
    assert len([line for line in deletes if line.startswith("-d ")]) == 7
    assert len([line for line in deletes if line.startswith("-D ")]) == 24
    assert fake.changes() == [([IPVSADM, "-R"], "".join(line + "\n" for line in result["commands"]))]


def test_ip_vs_is_loaded_when_absent_and_not_in_check_mode(kernel):
    kernel.ipvs = False
    kernel.missing = {"ip_vs", "ip_vs_wlc"}
    fake = FakeIpvsadm()
    checked = run_module(ipvs_service.main, dict(address="192.0.2.100", port=80), fake, check_mode=True)
    assert checked["changed"] is True and fake.calls == []
    result = run_module(ipvs_service.main, dict(address="192.0.2.100", port=80), fake)
    assert result["changed"] is True
    assert [argv for argv, data in fake.changes()] == [
        [MODPROBE, "ip_vs"], [MODPROBE, "ip_vs_wlc"], [IPVSADM, "-A", "-t", "192.0.2.100:80", "-s", "wlc"]]


def test_no_ipvs_in_the_kernel_is_one_sentence(kernel):
    kernel.ipvs = False
    kernel.missing = {"ip_vs"}
    fake = FakeIpvsadm(fail={"modprobe": (1, "modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.1.0-37-amd64\n")})
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_service.main, dict(address="192.0.2.100", port=80), fake)
    assert failure.value.result["msg"] == ("the kernel has no IPVS support (modprobe ip_vs failed: "
                                           "modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.1.0-37-amd64)")


def test_absent_service_without_ipvs_loads_nothing(kernel):
    kernel.ipvs = False
    fake = FakeIpvsadm()
    result = run_module(ipvs_service.main, dict(address="192.0.2.100", port=80, state="absent"), fake)
    assert (result["changed"], fake.calls) == (False, [])


def test_missing_scheduler_module_fails_before_any_change(kernel):
    kernel.missing = {"ip_vs_mh"}
    fake = FakeIpvsadm(live(), fail={"modprobe": (1, "modprobe: FATAL: Module ip_vs_mh is blacklisted\n")})
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_service.main, dict(address="192.0.2.100", port=80, scheduler="mh"), fake)
    assert failure.value.result["msg"] == ("Scheduler mh needs the kernel module ip_vs_mh, which cannot be loaded: "
                                           "modprobe: FATAL: Module ip_vs_mh is blacklisted")
    assert [argv[0] for argv, data in fake.changes()] == [MODPROBE]


@pytest.mark.parametrize("args, message", [
    (dict(address="-C", port=80), "Virtual service address '-C' is not a valid IPv4 or IPv6 address."),
    (dict(address="192.0.2.100", port=80, real_servers=[dict(address="192.0.2.11"), dict(address="192.0.2.11")]),
     "real_servers[1] repeats real server 192.0.2.11 port 80 of tcp 192.0.2.100:80; list each real server once."),
    (dict(protocol="fwmark", fwmark=7, scheduler="sh", scheduler_flags=["mh-port"]),
     "scheduler flag mh-port does not belong to scheduler sh (it takes sh-fallback, sh-port)."),
])
def test_service_bad_input_changes_nothing(kernel, args, message):
    fake = FakeIpvsadm(live())
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_service.main, args, fake)
    assert failure.value.result["msg"] == message
    assert fake.changes() == []


def test_real_server_needs_an_existing_service(kernel):
    fake = FakeIpvsadm(live())
    with pytest.raises(ModuleFail) as failure:
        run_module(ipvs_real_server.main, dict(virtual_service=dict(address="192.0.2.250", port=80), address="192.0.2.11"), fake)
    assert failure.value.result["msg"] == ("Virtual service tcp 192.0.2.250:80 does not exist; "
                                           "create it first with lvs.topology.ipvs_service.")


def test_real_server_edit_keeps_identity_and_uses_e(kernel):
    """Seed: ipvsadm -e -t VIP:80 -r RIP:80 -m -w 2 on a DR real server."""
    fake = FakeIpvsadm(live())
    result = run_module(ipvs_real_server.main, dict(
        virtual_service=dict(protocol="fwmark", fwmark=7), address="192.0.2.11", forwarding_method="nat", weight=2), fake)
    assert result["commands"] == ["-e -f 7 -r 192.0.2.11:0 -m -w 2"]
    assert fake.changes() == [([IPVSADM, "-e", "-f", "7", "-r", "192.0.2.11:0", "-m", "-w", "2"], None)]


@pytest.mark.parametrize("address, port, active, polls", [
    ("203.0.113.17", 80, 3, 3),      # three connections stay: reported after the timeout
    ("198.51.100.12", 8080, 0, 1),   # nothing active: no waiting at all
])
def test_drain_reports_what_remained(kernel, monkeypatch, address, port, active, polls):
    outputs = live()
    outputs[("-Ln", "--thresholds", "-t", "192.0.2.102:80")] = captured("thresholds_one_service.txt")
    fake = FakeIpvsadm(outputs)
    clock = [1000.0]
    monkeypatch.setattr(ipvs_host.time, "time", lambda: clock[0])
    monkeypatch.setattr(ipvs_host.time, "sleep", lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    result = run_module(ipvs_real_server.main, dict(
        virtual_service=dict(address="192.0.2.102", port=80), address=address, port=port,
        state="drained", drain_timeout=2), fake)
    assert result["commands"] == [fake_line for fake_line in result["commands"] if " -w 0" in fake_line]
    assert len(result["commands"]) == 1
    assert (result["active_connections"], result["drained"]) == (active, active == 0)
    assert len([argv for argv, data in fake.calls if argv[-2:] == ["-t", "192.0.2.102:80"]]) == polls


def test_info_reports_counters_timeouts_daemons_and_connections(kernel):
    outputs = live()
    outputs.update({
        ("-Ln", "--stats", "--exact"): captured("stats_all_features.txt"),
        ("-Ln", "--rate", "--exact"): captured("rate_all_features.txt"),
        ("-L", "--timeout"): captured("timeout.txt"),
        ("-L", "--daemon"): captured("daemon.txt"),
        ("-Lcn",): captured("connections.txt"),
    })
    fake = FakeIpvsadm(outputs)
    result = run_module(ipvs_info.main, dict(connections=True, connection_limit=2), fake)
    assert result["changed"] is False and fake.changes() == []
    assert result["version"] == "1.2.1" and result["table_size"] == 4096
    assert result["timeouts"] == {"tcp": 900, "tcpfin": 120, "udp": 300}
    assert [daemon["state"] for daemon in result["sync_daemons"]] == ["master"]
    assert len(result["connections"]) == 2 and result["connection_count"] >= 2
    web = [service for service in result["services"] if service.get("address") == "192.0.2.102" and service["port"] == 80][0]
    assert web["stats"]["connections"] >= result["connection_count"] - 1
    assert set(web["rates"]) == {"connections_per_second", "packets_in_per_second", "packets_out_per_second",
                                 "bytes_in_per_second", "bytes_out_per_second"}
    assert all("active_connections" in server for server in web["real_servers"])


def _table_listings(active_connections=0):
    """A one-service table as -Sn and -Ln --thresholds print it, with some connections."""
    saved = "-A -t 192.0.2.100:80 -s wrr\n-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1\n"
    thresholds = ("IP Virtual Server version 1.2.1 (size=4096)\n"
                  "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn\n"
                  "  -> RemoteAddress:Port\n"
                  "TCP  192.0.2.100:80 wrr\n"
                  "  -> 192.0.2.11:80                 0          0          %d          3\n" % active_connections)
    return {("-Sn",): saved, ("-Ln", "--thresholds"): thresholds}


ONE_SERVICE = [dict(address="192.0.2.100", port=80, scheduler="wrr", real_servers=[dict(address="192.0.2.11")])]


def test_unchanged_rerun_answers_from_the_record_without_planning(kernel, monkeypatch):
    first = run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(ONE_SERVICE)), FakeIpvsadm(_table_listings()))
    assert (first["changed"], first["commands"]) == (False, [])

    def no_planning(params, have):
        raise AssertionError("planned although the record matched")
    monkeypatch.setattr(ipvs_table, "plan_table", no_planning)
    # Connection counts move with traffic and are no part of the table.
    fake = FakeIpvsadm(_table_listings(active_connections=5))
    again = run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(ONE_SERVICE)), fake)
    assert (again["changed"], again["commands"], fake.changes()) == (False, [], [])
    assert again["diff"]["before"] == again["diff"]["after"] == _table_listings()[("-Sn",)]


@pytest.mark.parametrize("change", ["table", "config", "state"])
def test_record_misses_when_the_table_or_the_task_differs(kernel, change):
    run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(ONE_SERVICE)), FakeIpvsadm(_table_listings()))
    listings, config, state = _table_listings(), [dict(ONE_SERVICE[0])], "overridden"
    if change == "table":
        listings[("-Sn",)] = listings[("-Sn",)].replace("-w 1", "-w 2")
    elif change == "config":
        config[0]["real_servers"] = [dict(address="192.0.2.11", weight=4)]
    else:
        state = "replaced"
    fake = FakeIpvsadm(listings)
    result = run_module(ipvs_table.main, dict(state=state, config=json.dumps(config)), fake)
    expected = {"table": ["-e -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1"],
                "config": ["-e -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 4"], "state": []}[change]
    assert result["commands"] == expected


def test_a_change_the_kernel_did_not_keep_is_planned_again_by_the_next_run(kernel, memo_path):
    # The fake kernel does not keep the change: the record holds the planned table, so the next
    # run's read of the live table misses it and plans the same operation again.
    fake = FakeIpvsadm(_table_listings())
    changed = [dict(ONE_SERVICE[0], real_servers=[dict(address="192.0.2.11", weight=4)])]
    result = run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(changed)), fake)
    assert result["changed"] and os.path.exists(memo_path)
    assert [argv for argv, data in fake.calls].count([IPVSADM, "-Sn"]) == 1
    again = run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(changed)), fake)
    assert (again["commands"], again.get("memo_hit")) == (result["commands"], None)


class KernelKeepingIpvsadm(FakeIpvsadm):
    """After the first change, the listings show the one-service table, as the kernel would."""

    def __call__(self, module, argv, data=None, **kwargs):
        answer = super(KernelKeepingIpvsadm, self).__call__(module, argv, data, **kwargs)
        if argv[0] == IPVSADM and tuple(argv[1:2]) not in READS:
            self.outputs.update(_table_listings())
        return answer


def test_a_change_that_took_is_recorded_without_reading_it_back(kernel, memo_path, monkeypatch):
    parsed = []
    monkeypatch.setattr(ipvs_host, "parse_saved_table", lambda text, parse=ipvs_host.parse_saved_table: parsed.append(text) or parse(text))
    fake = KernelKeepingIpvsadm()
    result = run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(ONE_SERVICE)), fake)
    assert result["commands"] == ["-A -t 192.0.2.100:80 -s wrr", "-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1"]
    assert parsed == [""] and os.path.exists(memo_path)
    # No thresholds before and none asked: the table is recorded as planned, not read back.
    assert [argv for argv, data in fake.calls].count([IPVSADM, "-Sn"]) == 1
    rerun = run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(ONE_SERVICE)), fake, diff=False)
    assert (rerun["changed"], rerun.get("memo_hit")) == (False, True)


def test_a_change_that_sets_thresholds_is_read_back_whole_and_parsed(kernel, memo_path, monkeypatch):
    parsed = []
    monkeypatch.setattr(ipvs_host, "parse_saved_table", lambda text, parse=ipvs_host.parse_saved_table: parsed.append(text) or parse(text))
    fake = KernelKeepingIpvsadm()
    with_threshold = [dict(ONE_SERVICE[0], real_servers=[dict(address="192.0.2.11", upper_threshold=10)])]
    result = run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(with_threshold)), fake)
    assert result["commands"][-1] == "-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1 -x 10"
    assert [argv for argv, data in fake.calls].count([IPVSADM, "-Ln", "--thresholds"]) == 2
    # The fake kernel kept no threshold: the parsed read-back says so, and nothing is recorded.
    assert len(parsed) == 2 and not os.path.exists(memo_path)


def test_check_mode_records_nothing(kernel, memo_path):
    run_module(ipvs_table.main, dict(state="overridden", config=json.dumps(ONE_SERVICE)), FakeIpvsadm(_table_listings()),
               check_mode=True)
    assert not os.path.exists(memo_path)

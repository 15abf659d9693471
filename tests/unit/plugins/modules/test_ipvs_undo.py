# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A change the kernel rejects part way: exactly what took effect is undone, nothing is flushed.

ipvsadm is a fake kernel that starts from the table captured on a lab VM and keeps every change
it accepts, so each test sees the table the undo leaves, not only the commands it ran.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

import pytest

from host_module_harness import ModuleFail, run_module
from test_ipvs_modules import IPVSADM, FakeIpvsadm, live

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.listing import parse_listing, real_server_thresholds
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import ServiceEntry, join_address_port, real_server_key, split_address_port
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.saveformat import (
    in_record_order, parse_saved_table, parse_service_words, table_lines, with_thresholds,
)
from ansible_collections.lvs.topology.plugins.modules import ipvs_real_server, ipvs_service, ipvs_table
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.ipvs_fixtures import captured

LISTED_PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}
ENOMEM = "Memory allocation problem"
READS_OF_THE_TABLE = (("-Sn",), ("-Ln", "--thresholds"))


def signed(mark):
    """A fwmark as ipvsadm 1.31 prints it, with %d."""
    return mark - (1 << 32) if mark > 2147483647 else mark


class KernelIpvsadm(FakeIpvsadm):
    """ipvsadm over a table kept as the kernel keeps it: the listings are rendered from it and
    each change is applied to it unless refused. ipvsadm -R takes its lines one by one, goes on
    past a refused line and exits with the status of the last line.

    refuse maps a save-format line to the error ipvsadm prints for it: a string refuses the line
    every time, a list once per item. The kernel's own refusals (a service added twice, a real
    server of a missing service, ...) hold too, so an undo run in the wrong order fails. With
    unlisted set, the listings fail once anything has changed; meanwhile lists changes another
    writer (keepalived, an operator) makes just before the task's first change.
    """

    def __init__(self, listings, refuse=None, unlisted=None, meanwhile=()):
        super(KernelIpvsadm, self).__init__(listings)
        thresholds = real_server_thresholds(parse_listing(listings[("-Ln", "--thresholds")]))
        self.table = with_thresholds(parse_saved_table(listings[("-Sn",)]), thresholds)
        self.refuse = dict(refuse or {})
        self.unlisted = unlisted
        self.changed = False
        self.change_refused = None
        self.meanwhile = list(meanwhile)

    def __call__(self, module, argv, data=None, **kwargs):
        self.calls.append((list(argv), data))
        arguments = tuple(argv[1:])
        while self.meanwhile and arguments not in READS_OF_THE_TABLE:
            self.change(self.meanwhile.pop(0).split())
        if arguments in READS_OF_THE_TABLE:
            if self.unlisted and self.changed:
                return 1, "", self.unlisted + "\n"
            return 0, self.saved() if arguments == ("-Sn",) else self.thresholds(), ""
        if arguments == ("-R",):
            errors = [error for error in (self.change(line.split()) for line in data.splitlines()) if error]
            return (255 if self.change_refused else 0), "", "".join(error + "\n" for error in errors)
        error = self.change(list(arguments))
        return (255, "", error + "\n") if error else (0, "", "")

    def refusal(self, line):
        error = self.refuse.get(line)
        if isinstance(error, list):
            return error.pop(0) if error else None
        return error

    def change(self, words):
        """Apply one ipvsadm command to the table; the error ipvsadm prints, or None."""
        self.change_refused = error = self.refusal(" ".join(words)) or self.kernel_refusal(words)
        if error:
            return error
        self.changed = True
        command, (service, dummy) = words[0], parse_service_words(words[1:])
        if command == "-A":
            self.table[service] = ServiceEntry(self.settings(words))
        elif command == "-E":
            self.table[service].settings = self.settings(words)
        elif command == "-D":
            del self.table[service]
        elif command == "-d":
            del self.table[service].real_servers[self.real_server_key(words)]
        else:
            real_server = self.real_server(service, words)
            self.table[service].real_servers[real_server_key(real_server)] = real_server
        return None

    def kernel_refusal(self, words):
        command, (service, dummy) = words[0], parse_service_words(words[1:])
        entry = self.table.get(service)
        if command == "-A":
            return "Service already exists" if entry is not None else None
        if entry is None:
            return "No such service" if command in ("-E", "-D") else "Service not defined"
        if command in ("-e", "-d") and self.real_server_key(words) not in entry.real_servers:
            return "No such destination"
        if command == "-a" and self.real_server_key(words) in entry.real_servers:
            return "Destination already exists"
        return None

    @staticmethod
    def settings(words):
        return list(parse_saved_table(" ".join(["-A"] + words[1:])).values())[0].settings

    @staticmethod
    def real_server_key(words):
        return split_address_port(words[words.index("-r") + 1])

    @staticmethod
    def real_server(service, words):
        pool = "-A %s -s wlc\n-a %s" % (" ".join(service.words()), " ".join(words[1:]))
        return list(list(parse_saved_table(pool).values())[0].real_servers.values())[0]

    def saved(self):
        """ipvsadm -Sn: no thresholds, and marks above 2147483647 negative, as ipvsadm 1.31 prints them."""
        lines = []
        for service, entry in self.table.items():
            bare = ServiceEntry(entry.settings, OrderedDict(
                (key, real_server._replace(upper_threshold=0, lower_threshold=0)) for key, real_server in entry.real_servers.items()))
            lines += table_lines({service: bare}, [service])
        return "".join(line + "\n" for line in lines).replace("-f 4294967295 ", "-f -1 ")

    def thresholds(self):
        """ipvsadm -Ln --thresholds, with no connections."""
        lines = ["IP Virtual Server version 1.2.1 (size=4096)",
                 "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn ",
                 "  -> RemoteAddress:Port"]
        for service, entry in self.table.items():
            if service.protocol == "fwmark":
                name = "FWM  %d%s" % (signed(service.fwmark), " IPv6" if service.family == "ipv6" else "")
            else:
                name = "%s  %s" % (LISTED_PROTOCOLS[service.protocol], join_address_port(service.address, service.port))
            lines.append("%s %s" % (name, entry.settings.scheduler))
            for real_server in entry.real_servers.values():
                lines.append("  -> %-28s %-10d %-10d %-10d %-10d" % (
                    join_address_port(real_server.address, real_server.port), real_server.upper_threshold,
                    real_server.lower_threshold, 0, 0))
        return "".join(line + "\n" for line in lines)

    def table_text(self):
        """The whole table, thresholds included, in an order independent of the order of changes."""
        return in_record_order(table_lines(self.table))


def captured_table():
    return KernelIpvsadm(live()).table_text()


def argv(line):
    return [IPVSADM] + line.split()


def failed(main, args, fake):
    with pytest.raises(ModuleFail) as failure:
        run_module(main, args, fake)
    return failure.value.result


def test_the_fake_kernel_lists_the_captured_table_as_ipvsadm_did():
    fake = KernelIpvsadm(live())
    assert fake.saved() == captured("save_all_features.txt")
    assert real_server_thresholds(parse_listing(fake.thresholds())) == real_server_thresholds(
        parse_listing(captured("thresholds_all_features.txt")))


def test_a_rejected_first_operation_undoes_nothing(kernel):
    fake = KernelIpvsadm(live(), refuse={"-A -t 192.0.2.200:80 -s wlc": ENOMEM})
    result = failed(ipvs_service.main, dict(address="192.0.2.200", port=80, real_servers=[dict(address="192.0.2.11")]), fake)
    assert result["msg"] == ("ipvsadm rejected -A -t 192.0.2.200:80 -s wlc (Memory allocation problem); no operation had been "
                             "applied before it, so nothing was undone and the table is as it was before this task.")
    # The one call that was rejected, and not a flush or anything else after it.
    assert fake.changes() == [(argv("-A -t 192.0.2.200:80 -s wlc"), None)]
    assert (result["cmd"], result["rc"], result["stderr"]) == (argv("-A -t 192.0.2.200:80 -s wlc"), 255, ENOMEM + "\n")
    assert (result["commands"], result["rejected"], result["undo_commands"]) == (
        ["-A -t 192.0.2.200:80 -s wlc"], ["-A -t 192.0.2.200:80 -s wlc"], [])
    assert "left_differences" not in result
    assert fake.table_text() == captured_table()


def test_argv_calls_before_a_rejected_one_are_undone_and_a_deleted_real_server_comes_back_whole(kernel):
    """192.0.2.11 has weight 1 and thresholds 100/50, which -Sn does not show: it returns with them."""
    fake = KernelIpvsadm(live(), refuse={"-d -t 192.0.2.102:80 -r 198.51.100.12:8080": ENOMEM})
    result = failed(ipvs_table.main, dict(state="merged", config=[dict(address="192.0.2.102", port=80, real_servers=[
        dict(address="192.0.2.12", weight=3), dict(address="192.0.2.11", state="absent"),
        dict(address="198.51.100.12", port=8080, state="absent")])]), fake)
    assert result["msg"] == ("ipvsadm rejected -d -t 192.0.2.102:80 -r 198.51.100.12:8080 (Memory allocation problem); "
                             "the 2 operations applied before it were undone; the table is as it was before this task.")
    # The second operation undone first, then the first: the pool is never smaller than before.
    assert fake.changes() == [
        (argv("-a -t 192.0.2.102:80 -r 192.0.2.12:80 -g -w 3"), None),
        (argv("-d -t 192.0.2.102:80 -r 192.0.2.11:80"), None),
        (argv("-d -t 192.0.2.102:80 -r 198.51.100.12:8080"), None),
        (argv("-a -t 192.0.2.102:80 -r 192.0.2.11:80 -g -w 1 -x 100 -y 50"), None),
        (argv("-d -t 192.0.2.102:80 -r 192.0.2.12:80"), None),
    ]
    assert result["undo_commands"] == ["-a -t 192.0.2.102:80 -r 192.0.2.11:80 -g -w 1 -x 100 -y 50",
                                       "-d -t 192.0.2.102:80 -r 192.0.2.12:80"]
    assert fake.table_text() == captured_table()


TWO_SERVICES = [dict(address="192.0.2.102", port=80, scheduler="rr"),
                dict(address="192.0.2.200", port=80, real_servers=[dict(address="192.0.2.11")])]
TWO_SERVICES_COMMANDS = ["-E -t 192.0.2.102:80 -s rr -p 20", "-A -t 192.0.2.200:80 -s wlc", "-a -t 192.0.2.200:80 -r 192.0.2.11:80 -g -w 1"]


def test_an_edited_service_gets_its_settings_back_and_an_added_one_is_deleted(kernel):
    fake = KernelIpvsadm(live(), refuse={TWO_SERVICES_COMMANDS[2]: ENOMEM})
    result = failed(ipvs_table.main, dict(state="merged", config=TWO_SERVICES), fake)
    assert result["msg"] == ("ipvsadm rejected -a -t 192.0.2.200:80 -r 192.0.2.11:80 -g -w 1 (Memory allocation problem); "
                             "the 2 operations applied before it were undone; the table is as it was before this task.")
    # In place: the edited service is edited back (-E), never deleted and added again.
    assert fake.changes() == [(argv(line), None) for line in TWO_SERVICES_COMMANDS + [
        "-E -t 192.0.2.102:80 -s wrr -p 20", "-D -t 192.0.2.200:80"]]
    assert fake.table_text() == captured_table()


@pytest.mark.parametrize("refusals, undone", [(1, True), (2, False)])
def test_a_refused_undo_is_retried_alone_and_what_is_left_is_named(kernel, refusals, undone):
    fake = KernelIpvsadm(live(), refuse={TWO_SERVICES_COMMANDS[2]: ENOMEM, "-D -t 192.0.2.200:80": ["Device or resource busy"] * refusals})
    result = failed(ipvs_table.main, dict(state="merged", config=TWO_SERVICES), fake)
    undo = ["-E -t 192.0.2.102:80 -s wrr -p 20", "-D -t 192.0.2.200:80", "-D -t 192.0.2.200:80"]
    assert fake.changes() == [(argv(line), None) for line in TWO_SERVICES_COMMANDS + undo]
    assert result["undo_commands"] == undo
    rejected = "ipvsadm rejected -a -t 192.0.2.200:80 -r 192.0.2.11:80 -g -w 1 (Memory allocation problem); "
    if undone:
        assert result["msg"] == rejected + "the 2 operations applied before it were undone; the table is as it was before this task."
        assert "left_differences" not in result
        assert fake.table_text() == captured_table()
    else:
        assert result["msg"] == rejected + (
            "undoing the 2 operations applied before it failed (ipvsadm refused -D -t 192.0.2.200:80: Device or resource busy), "
            "so tcp 192.0.2.200:80 still differs from before this task (left_differences has its lines before and now).")
        assert result["left_differences"] == {"before": [], "now": ["-A -t 192.0.2.200:80 -s wlc"]}
        assert fake.table_text() == sorted(captured_table() + ["-A -t 192.0.2.200:80 -s wlc"])


BATCH = [
    "-A -t 192.0.2.200:80 -s wlc",
    "-e -t 192.0.2.100:8001 -r 192.0.2.11:8001 -g -w 5",
    "-a -t 192.0.2.200:80 -r 192.0.2.11:80 -g -w 1",
    "-a -t 192.0.2.200:80 -r 192.0.2.12:80 -g -w 1",
    "-a -t 192.0.2.200:80 -r 192.0.2.13:80 -g -w 1",
]
TOUCHED = {"192.0.2.200:80", "192.0.2.100:8001"}


@pytest.mark.parametrize("refused, rc", [
    ([BATCH[3]], 0),  # ipvsadm -R exits 0 after a refused line that is not its last
    ([BATCH[4]], 255),
    ([BATCH[3], BATCH[4]], 255),
])
def test_a_batch_undoes_what_the_table_shows_of_it_and_no_other_service(kernel, refused, rc):
    # Another writer changes a service this task does not touch: the undo leaves that alone.
    other = "-e -t 192.0.2.100:8002 -r 192.0.2.11:8002 -g -w 9"
    fake = KernelIpvsadm(live(), refuse=dict((line, ENOMEM) for line in refused), meanwhile=[other])
    result = failed(ipvs_table.main, dict(state="merged", config=[
        dict(address="192.0.2.100", port=8001, real_servers=[dict(address="192.0.2.11", weight=5)]),
        dict(address="192.0.2.200", port=80, real_servers=[dict(address=address) for address in ("192.0.2.11", "192.0.2.12", "192.0.2.13")]),
    ]), fake)
    applied = len(BATCH) - len(refused)
    errors = "; ".join([ENOMEM] * len(refused))
    assert result["msg"] == "ipvsadm rejected %s (%s); the %d operations of the batch that took effect were undone; " \
                            "the table is as it was before this task." % (", ".join(refused), errors, applied)
    assert (result["cmd"], result["rc"], result["rejected"], result["commands"]) == ([IPVSADM, "-R"], rc, refused, BATCH)
    undo = ["-e -t 192.0.2.100:8001 -r 192.0.2.11:8001 -g -w 1", "-D -t 192.0.2.200:80"]
    assert fake.changes() == [([IPVSADM, "-R"], "".join(line + "\n" for line in BATCH))] + [(argv(line), None) for line in undo]
    assert result["undo_commands"] == undo
    for line in result["commands"] + result["undo_commands"]:
        assert line.split()[2] in TOUCHED
    assert fake.table_text() == sorted(line.replace("-r 192.0.2.11:8002 -g -w 2", "-r 192.0.2.11:8002 -g -w 9") for line in captured_table())


class KilledIpvsadm(KernelIpvsadm):
    """An ipvsadm -R killed after it applied the first lines of its batch: either writing the
    rest of the batch to its standard input breaks the pipe, or, the batch all written, its
    status is that of the signal."""

    def __init__(self, listings, applied, broken_pipe):
        super(KilledIpvsadm, self).__init__(listings)
        self.applied = applied
        self.broken_pipe = broken_pipe

    def __call__(self, module, argv, data=None, **kwargs):
        if tuple(argv[1:]) != ("-R",) or self.applied is None:
            return super(KilledIpvsadm, self).__call__(module, argv, data, **kwargs)
        assert kwargs["handle_exceptions"] is False
        self.calls.append((list(argv), data))
        for line in data.splitlines()[:self.applied]:
            self.change(line.split())
        self.applied = None
        if self.broken_pipe:
            raise IOError(32, "Broken pipe")
        return -9, "", ""


@pytest.mark.parametrize("broken_pipe, reason, rc", [
    (True, "running %s failed: [Errno 32] Broken pipe" % IPVSADM, None),
    (False, "killed by signal 9", -9),
], ids=["broken-pipe", "signal"])
def test_a_batch_whose_ipvsadm_is_killed_is_undone_and_nothing_is_called_rejected(kernel, broken_pipe, reason, rc):
    fake = KilledIpvsadm(live(), applied=3, broken_pipe=broken_pipe)
    result = failed(ipvs_table.main, dict(state="merged", config=[
        dict(address="192.0.2.100", port=8001, real_servers=[dict(address="192.0.2.11", weight=5)]),
        dict(address="192.0.2.200", port=80, real_servers=[dict(address=address) for address in ("192.0.2.11", "192.0.2.12", "192.0.2.13")]),
    ]), fake)
    assert result["msg"] == ("ipvsadm stopped before the end of a batch of 5 operations (%s); the 3 operations of the batch "
                             "that took effect were undone; the table is as it was before this task." % reason)
    assert (result["cmd"], result["rc"], result["rejected"]) == ([IPVSADM, "-R"], rc, [])
    assert fake.table_text() == captured_table()


def test_services_a_batch_deleted_come_back_whole_in_one_batch(kernel):
    """The thresholds -Sn omits and fwmark 4294967295, which ipvsadm 1.31 saves as "-f -1" but
    cannot read back, are both in the undo; the service whose deletion was refused is not."""
    fake = KernelIpvsadm(live(), refuse={"-D -f 7": ENOMEM})
    result = failed(ipvs_table.main, dict(state="deleted", allow_empty_table=True), fake)
    assert result["msg"] == ("ipvsadm rejected -D -f 7 (Memory allocation problem); the 24 operations of the batch that took "
                             "effect were undone; the table is as it was before this task.")
    assert result["rc"] == 0 and result["stderr"] == ENOMEM + "\n"
    saved = captured("save_all_features.txt").replace(
        "-a -t 192.0.2.102:80 -r 192.0.2.11:80 -g -w 1\n", "-a -t 192.0.2.102:80 -r 192.0.2.11:80 -g -w 1 -x 100 -y 50\n").replace(
        "-A -f -1 -s rr\n", "-A -f 4294967295 -s rr\n").splitlines()
    others = [line for line in saved if not line.startswith(("-A -f 7 ", "-a -f 7 "))]
    undo = [line for line in others if line.startswith("-A")] + [line for line in others if line.startswith("-a")]
    assert result["undo_commands"] == undo
    assert fake.changes()[1:] == [([IPVSADM, "-R"], "".join(line + "\n" for line in undo))]
    assert fake.table_text() == captured_table()


def test_a_table_that_cannot_be_read_back_is_said_so_and_nothing_is_undone(kernel):
    fake = KernelIpvsadm(live(), refuse={TWO_SERVICES_COMMANDS[2]: ENOMEM}, unlisted="Memory allocation problem")
    result = failed(ipvs_table.main, dict(state="merged", config=TWO_SERVICES), fake)
    assert result["msg"] == ("ipvsadm rejected -a -t 192.0.2.200:80 -r 192.0.2.11:80 -g -w 1 (Memory allocation problem), and "
                             "reading the table back to find what took effect failed (ipvsadm -Sn: Memory allocation problem), "
                             "so nothing was undone; commands lists what this task ran.")
    assert result["commands"] == TWO_SERVICES_COMMANDS
    assert fake.changes() == [(argv(line), None) for line in TWO_SERVICES_COMMANDS]


def test_a_rejected_real_server_edit_alone_is_one_call_and_no_undo(kernel):
    line = "-e -t 192.0.2.102:80 -r 192.0.2.11:80 -g -w 4 -x 100 -y 50"
    fake = KernelIpvsadm(live(), refuse={line: ENOMEM})
    result = failed(ipvs_real_server.main, dict(virtual_service=dict(address="192.0.2.102", port=80), address="192.0.2.11",
                                                weight=4, upper_threshold=100, lower_threshold=50), fake)
    assert result["msg"].startswith("ipvsadm rejected %s (Memory allocation problem); no operation had been applied" % line)
    assert fake.changes() == [(argv(line), None)]

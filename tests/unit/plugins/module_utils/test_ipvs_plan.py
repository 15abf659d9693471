# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning: parameters -> desired table -> the exact ordered ipvsadm operations."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.plan import (
    apply_to_table, plan_operations, render_diff, took_effect, undo_operations,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.saveformat import (
    in_record_order, operation_line, parse_saved_table, table_lines,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.resource import desired_table
from ansible_collections.lvs.topology.tests.unit.plugins.module_utils.ipvs_fixtures import cases

PLAN_CASES = cases("plan_cases.yml")
BAD_INPUT_CASES = cases("bad_input_cases.yml")


def plan(case):
    have = parse_saved_table(case["have"])
    desired, absent = desired_table(case["config"], case["state"], have)
    return have, plan_operations(have, desired, absent, case["state"] == "overridden")


@pytest.mark.parametrize("case", PLAN_CASES, ids=[case["name"] for case in PLAN_CASES])
def test_plan_gives_the_exact_commands(case):
    have, operations = plan(case)
    assert [operation_line(operation) for operation in operations] == case["commands"]


@pytest.mark.parametrize("case", PLAN_CASES, ids=[case["name"] for case in PLAN_CASES])
def test_applying_the_plan_reaches_a_fixed_point(case):
    """After the operations, planning the same request again finds nothing to do."""
    have, operations = plan(case)
    after = apply_to_table(have, operations)
    desired, absent = desired_table(case["config"], case["state"], after)
    assert plan_operations(after, desired, absent, case["state"] == "overridden") == []


@pytest.mark.parametrize("case", PLAN_CASES, ids=[case["name"] for case in PLAN_CASES])
def test_the_undo_of_a_plan_brings_back_the_table_in_place(case):
    """Every operation shows in the table it leaves and none in the table before; the undo
    restores the table before, edits in place, and re-creates only what the plan deleted."""
    have, operations = plan(case)
    after = apply_to_table(have, operations)
    assert all(took_effect(operation, after) for operation in operations)
    assert not any(took_effect(operation, have) for operation in operations)
    undo = undo_operations(after, have, [operation.service for operation in operations])
    assert in_record_order(table_lines(apply_to_table(after, undo))) == in_record_order(table_lines(have))
    deleted = set(operation.service for operation in operations if operation.command == "-D")
    assert not [operation for operation in undo if operation.command == "-D" and operation.service in have]
    assert not [operation for operation in undo if operation.command == "-A" and operation.service not in deleted]


def test_the_undo_names_only_the_services_it_is_given():
    before = parse_saved_table("-A -t 192.0.2.100:80 -s wlc\n-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1 -x 100 -y 50\n"
                               "-A -t 192.0.2.101:80 -s rr\n")
    now = parse_saved_table("-A -t 192.0.2.100:80 -s rr\n-A -t 192.0.2.101:80 -s wrr\n-A -t 192.0.2.102:80 -s rr\n")
    touched = [service for service in now if service.port == 80 and service.address != "192.0.2.101"]
    assert [operation_line(operation) for operation in undo_operations(now, before, touched)] == [
        "-E -t 192.0.2.100:80 -s wlc",
        "-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1 -x 100 -y 50",
        "-D -t 192.0.2.102:80",
    ]


@pytest.mark.parametrize("case", BAD_INPUT_CASES, ids=[case["message"][:60] for case in BAD_INPUT_CASES])
def test_bad_input_is_one_sentence_naming_the_value(case):
    with pytest.raises(IpvsInputError) as error:
        desired_table(case["config"], "merged", parse_saved_table(""))
    message = str(error.value)
    assert case["message"] in message
    assert message.count("\n") == 0


def test_plan_is_linear_and_a_weight_change_is_one_operation():
    """20 000 rules plan in one pass; one changed weight is one -e."""
    lines = []
    for number in range(4000):
        vip = "192.0.2.%d:%d" % (number % 250 + 1, 1000 + number)
        lines.append("-A -t %s -s wlc" % vip)
        lines += ["-a -t %s -r 198.51.100.%d:%s -g -w 1" % (vip, server, vip.split(":")[1]) for server in range(1, 5)]
    have = parse_saved_table("\n".join(lines))
    config = [{"address": service.address, "port": service.port,
               "real_servers": [{"address": rs.address, "weight": 1} for rs in entry.real_servers.values()]}
              for service, entry in have.items()]
    config[1234]["real_servers"][2]["weight"] = 7
    desired, absent = desired_table(config, "overridden", have)
    operations = plan_operations(have, desired, absent, True)
    assert [operation_line(operation) for operation in operations] == [
        "-e -t 192.0.2.235:2234 -r 198.51.100.3:2234 -g -w 7"]
    assert len(table_lines(have)) == 20000


def test_diff_shows_only_the_affected_services():
    have = parse_saved_table("-A -t 192.0.2.100:80 -s wlc\n-A -t 192.0.2.101:80 -s rr\n"
                             "-a -t 192.0.2.101:80 -r 192.0.2.11:80 -g -w 1\n")
    desired, absent = desired_table([{"address": "192.0.2.101", "port": 80, "scheduler": "wrr"}], "merged", have)
    operations = plan_operations(have, desired, absent)
    diff = render_diff(have, apply_to_table(have, operations), [want.service for want in desired])
    assert diff == {
        "before": "-A -t 192.0.2.101:80 -s rr\n-a -t 192.0.2.101:80 -r 192.0.2.11:80 -g -w 1\n",
        "after": "-A -t 192.0.2.101:80 -s wrr\n-a -t 192.0.2.101:80 -r 192.0.2.11:80 -g -w 1\n",
    }
    # the live table object is not modified by computing the after state
    assert table_lines(have)[1] == "-A -t 192.0.2.101:80 -s rr"

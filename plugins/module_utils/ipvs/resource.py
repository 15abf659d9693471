# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvs_table as a resource: its parameters, its config as desired services, and the states
that need no host.

Private to the collection: this API may change without notice.

The module (on the host) and its action plugin (on the controller) both take their
parameters and answers from here, so the states rendered and parsed, which the action
answers without connecting to the host, check their input exactly as the states that change
the table do and refuse it with the same sentence. Pure Python over the standard library.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from collections import OrderedDict

from ansible_collections.lvs.topology.plugins.module_utils._lock import lock_argument_spec
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError, table_config
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.plan import apply_to_table, plan_operations
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.rules import parse_rules, rules_lines
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.values import (
    desired_service_from_params, in_item, validated_service_item, virtual_service_from_params,
)

STATES = ("merged", "replaced", "overridden", "deleted", "gathered", "rendered", "parsed")
# Answered from the task's parameters alone: nothing on any host is read or changed.
OFFLINE_STATES = ("rendered", "parsed")
# Given an empty config, each of these deletes every service of the table.
EMPTYING_STATES = ("overridden", "deleted")


def table_module_spec():
    """ipvs_table's argument spec, as keyword arguments of AnsibleModule and of an action
    plugin's validate_argument_spec()."""
    return dict(
        argument_spec=dict(
            config=dict(type="jsonarg", default=[]),
            running_config=dict(type="str"),
            state=dict(type="str", default="merged", choices=list(STATES)),
            allow_empty_table=dict(type="bool", default=False),
            # Set by ipvs_table's action only: config is then the changed items alone (delta.py).
            _delta=dict(type="dict"),
            **lock_argument_spec()
        ),
        required_if=[("state", "parsed", ("running_config",))],
    )


def config_items(config):
    """The config list, whether it came as a list or as JSON text (jsonarg hands over text)."""
    if isinstance(config, (str, bytes)):
        try:
            config = json.loads(config)
        except ValueError as error:
            raise IpvsInputError("config is neither a list of services nor JSON text of one (%s)." % error)
    if not isinstance(config, list):
        raise IpvsInputError("config must be a list of services, got %s." % type(config).__name__)
    return config


def check_state_options(params):
    """running_config is the input of state parsed only, config of every other state."""
    if params["state"] == "parsed":
        if config_items(params["config"]):
            raise IpvsInputError("config does not apply with state parsed, which reads running_config.")
    elif params.get("running_config") is not None:
        raise IpvsInputError("running_config applies only with state parsed; state %s takes config." % params["state"])


def check_not_emptying(config, state, have, allow_empty_table):
    """Refuse an empty config that would delete every service of a table that has some.

    A model that lost its services by mistake (an unset variable, a filter that matched
    nothing) reaches the module as an empty config, which overridden and deleted would each
    turn into a director without services; that needs allow_empty_table. A table that is
    empty already stays so: no change, nothing to refuse.
    """
    if config or state not in EMPTYING_STATES or not have or allow_empty_table:
        return
    services = "all %d services" % len(have) if len(have) > 1 else "the only service"
    remedy = "list the services to delete in config, or " if state == "deleted" else ""
    raise IpvsInputError("config is empty, so state %s would delete %s of the IPVS table; %sset allow_empty_table=true "
                         "to empty the table on purpose." % (state, services, remedy))


def desired_table(config, state, have, names=None):
    """(desired services, services to delete) for the state; raise on the first bad item.

    names says what to call each item in a message (config[0], config[1], ... by default).
    """
    desired, absent, seen = [], [], set()
    for position, item in enumerate(config):
        where = names[position] if names is not None else "config[%d]" % position
        params = validated_service_item(item, where)
        try:
            if state == "deleted":
                absent.append(virtual_service_from_params(params))
                continue
            want = desired_service_from_params(params, have, where, merge=state == "merged", purge_default=state != "merged")
        except IpvsInputError as error:
            raise in_item(where, error)
        if want.service in seen:
            raise IpvsInputError("%s repeats the service %s; list each service once." % (where, want.service.label()))
        seen.add(want.service)
        desired.append(want)
    if state == "deleted" and not config:
        absent = list(have)
    return desired, absent


def config_table(config, names=None):
    """The table config describes: the one state overridden leaves on a host whose table is empty."""
    empty = OrderedDict()
    desired, absent = desired_table(config, "overridden", empty, names)
    return apply_to_table(empty, plan_operations(empty, desired, absent, purge_other_services=True))


def rendered_lines(config):
    """State rendered: the rules-format lines of the table config describes."""
    return rules_lines(config_table(config_items(config)))


def parsed_config(running_config):
    """State parsed: the config that describes the table of rules text or ipvsadm -Sn output.

    The parser reads whatever ipvsadm could print; the table it reads is then checked as
    config, as every state checks it, so a line ipvs_table could not apply (a weight above
    65535, a dr real server on another port) is refused here too, named by its service.
    """
    table = parse_rules(running_config)
    names = ["running_config[%s]" % service.label() for service in table]
    return table_config(config_table(table_config(table), names))


def offline_result(params):
    """The result of state rendered or parsed, from validated parameters; raise IpvsInputError."""
    check_state_options(params)
    if params["state"] == "rendered":
        return dict(changed=False, commands=[], rendered=rendered_lines(params["config"]))
    return dict(changed=False, commands=[], parsed=parsed_config(params["running_config"]))

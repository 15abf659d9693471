# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvs_table as a resource: its parameters and its config as desired services.

Private to the collection: this API may change without notice.

Outside the module, so that code on the controller can check a task's parameters and config
as the module does. Pure Python over the standard library.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.values import (
    desired_service_from_params, in_item, validated_service_item, virtual_service_from_params,
)

STATES = ("merged", "replaced", "overridden", "deleted", "gathered")


def table_module_spec():
    """ipvs_table's argument spec, as keyword arguments of AnsibleModule and of an action
    plugin's validate_argument_spec()."""
    return dict(
        argument_spec=dict(
            config=dict(type="jsonarg", default=[]),
            state=dict(type="str", default="merged", choices=list(STATES)),
        ),
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


def desired_table(config, state, have):
    """(desired services, services to delete) for the state; raise on the first bad item."""
    desired, absent, seen = [], [], set()
    for position, item in enumerate(config):
        where = "config[%d]" % position
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

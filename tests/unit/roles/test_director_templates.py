# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The director role's variables and FULLNAT table read the model's defaults from
lvs_normalized_services; they never restate them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os

import jinja2
import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.filter.core import FilterModule as CoreFilters
from ansible.plugins.test.core import TestModule as CoreTests
from ansible_collections.lvs.topology.plugins.filter.lvs_normalized_services import lvs_normalized_services
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.values import DEFAULT_PROTOCOL, DEFAULT_SCHEDULER
from ansible_collections.lvs.topology.plugins.plugin_utils._topology import REAL_SERVER_DEFAULTS, SERVICE_DEFAULTS, SERVICE_REQUIRED

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "director")


def render(text, **context):
    environment = jinja2.Environment(trim_blocks=True)
    environment.filters.update(CoreFilters().filters())
    environment.filters["lvs.topology.lvs_normalized_services"] = lvs_normalized_services
    environment.tests.update(CoreTests().tests())
    return environment.from_string(text).render(context)


def render_value(text, **context):
    """What Ansible makes of a template that renders a Python value (its native types)."""
    return ast.literal_eval(render(text, **context))


def role_variable(name, *reads, **context):
    """A variable of roles/director/vars/main.yml, rendered with _director_model and the
    role variables it reads (reads, in order)."""
    with open(os.path.join(ROLE, "vars", "main.yml")) as handle:
        variables = yaml.safe_load(handle)
    for needed in ("_director_model",) + reads + (name,):
        if needed not in context:
            context[needed] = render_value(variables[needed], **context)
    return context[name]


MODEL = [
    {"name": "web", "vip": "192.0.2.100", "port": 80, "real_servers": [{"host": "192.0.2.21"}]},
    {"name": "dns", "vip": "2001:db8::53", "port": "53", "protocol": "udp", "scheduler": "sh", "flags": "sh-port,sh-fallback",
     "forwarding_method": "fullnat", "real_servers": [{"host": "2001:db8::21"}]},
    {"name": "all-ports", "vip": "192.0.2.101", "port": 0, "persistence": {"timeout": 300}, "forwarding_method": "fullnat",
     "real_servers": [{"host": "192.0.2.21"}]},
    {"name": "web-fullnat", "vip": "192.0.2.102", "port": 443, "forwarding_method": "fullnat", "real_servers": [{"host": "192.0.2.21"}]},
]


def test_the_defaults_come_from_the_ipvs_modules():
    web, dns, all_ports, fullnat = lvs_normalized_services(MODEL)
    assert (web["protocol"], web["scheduler"], web["forwarding_method"], web["flags"]) == (DEFAULT_PROTOCOL, DEFAULT_SCHEDULER, "dr", [])
    assert (dns["port"], dns["flags"]) == (53, ["sh-fallback", "sh-port"])
    assert all_ports["persistence"] == {"timeout": 300, "netmask": None, "engine": None}


def test_the_schedulers_and_methods_in_use_include_the_defaults():
    assert role_variable("_director_schedulers", lvs_virtual_services=MODEL) == [DEFAULT_SCHEDULER, "sh"]
    assert role_variable("_director_methods", lvs_virtual_services=MODEL) == ["dr", "fullnat"]


# Pools that mix methods, real servers given by address: no facts needed to resolve them.
MIXED_MODEL = [
    {"name": "web", "vip": "192.0.2.100", "port": 80, "real_servers": [{"host": "192.0.2.21"}, {"host": "203.0.113.41", "forwarding_method": "tun"}]},
    {"name": "api", "vip": "192.0.2.103", "port": 443, "real_servers": [
        {"host": "192.0.2.21"}, {"host": "198.51.100.31", "port": 8443, "forwarding_method": "fullnat"},
        {"host": "198.51.100.32", "port": 8443, "forwarding_method": "fullnat"}]},
    {"name": "api6", "vip": "2001:db8::103", "port": 443, "forwarding_method": "fullnat", "real_servers": [
        {"host": "2001:db8:51::31"}, {"host": "2001:db8::21", "forwarding_method": "dr"}]},
    {"name": "dns", "vip": "192.0.2.53", "port": 53, "protocol": "udp", "forwarding_method": "fullnat",
     "real_servers": [{"host": "198.51.100.31"}, {"host": "198.51.100.32"}]},
    # A FULLNAT service whose real servers all have another method has no FULLNAT connection.
    {"name": "routed", "vip": "192.0.2.104", "port": 80, "forwarding_method": "fullnat",
     "real_servers": [{"host": "203.0.113.41", "forwarding_method": "tun"}]},
]


def test_the_methods_in_use_include_each_real_server_own():
    context = dict(lvs_virtual_services=MIXED_MODEL, director_extra_kernel_modules=[], director_expire_stale_connections=False)
    assert role_variable("_director_methods", **context) == ["dr", "fullnat", "tun"]
    assert "ipip" in role_variable("_director_kernel_modules", "_director_methods", "_director_schedulers", **context)
    # A DR service with one NAT real server forwards.
    nat_one = [{"name": "web", "vip": "192.0.2.100", "port": 80, "real_servers": [{"host": "192.0.2.21"}, {"host": "192.0.2.22", "forwarding_method": "nat"}]}]
    context["lvs_virtual_services"] = nat_one
    assert role_variable("_director_sysctls", "_director_methods", "_director_forwards", "_director_ipv6", **context) == {"net.ipv4.ip_forward": 1}
    context["lvs_virtual_services"] = MIXED_MODEL
    assert role_variable("_director_sysctls", "_director_methods", "_director_forwards", "_director_ipv6", **context) == {
        "net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1, "net.ipv4.vs.conntrack": 1}


def test_the_argument_spec_takes_every_key_the_model_reads_and_a_mixed_pool():
    spec = yaml.safe_load(role_file("meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]["lvs_virtual_services"]
    assert set(spec["options"]) == set(SERVICE_REQUIRED) | set(SERVICE_DEFAULTS)
    assert set(spec["options"]["real_servers"]["options"]) == {"host"} | set(REAL_SERVER_DEFAULTS)
    result = ArgumentSpecValidator({"lvs_virtual_services": spec}).validate({"lvs_virtual_services": MIXED_MODEL})
    assert result.error_messages == []
    bad = [dict(MIXED_MODEL[0], real_servers=[{"host": "192.0.2.21", "forwarding_method": "masq"}])]
    assert len(ArgumentSpecValidator({"lvs_virtual_services": spec}).validate({"lvs_virtual_services": bad}).error_messages) == 1


def fullnat_rules(services):
    """The rules of the FULLNAT table the role writes for the model."""
    resolved = role_variable("_director_fullnat_services", lvs_virtual_services=services, hostvars={}, director_hosts=[])
    text = render(role_file("templates", "fullnat.nft.j2"), ansible_managed="managed", _director_fullnat_services=resolved,
                  director_fullnat_snat_address="")
    return [line.strip() for line in text.splitlines() if line.strip().startswith("ct original")]


def test_a_pool_that_mixes_methods_translates_the_source_of_its_fullnat_real_servers_only():
    assert fullnat_rules(MIXED_MODEL) == [
        # With conntrack=1 a DR or TUN connection of the same VIP and port would match: the rule also
        # matches the RIPs IPVS has just written, FULLNAT's only.
        'ct original ip daddr 192.0.2.103 meta l4proto tcp ct original proto-dst 443 ip daddr { 198.51.100.31, 198.51.100.32 } masquerade comment "api"',
        'ct original ip6 daddr 2001:db8::103 meta l4proto tcp ct original proto-dst 443 ip6 daddr { 2001:db8:51::31 } masquerade comment "api6"',
        # Every real server FULLNAT: the VIP and port tell the connections, as before.
        'ct original ip daddr 192.0.2.53 meta l4proto udp ct original proto-dst 53 masquerade comment "dns"',
    ]


def test_a_bad_scheduler_never_becomes_a_kernel_module_name():
    model = [dict(MODEL[0], scheduler="wrr\nsh"), dict(MODEL[0], name="web2", scheduler="../../x")]
    with pytest.raises(AnsibleFilterError) as error:
        role_variable("_director_schedulers", lvs_virtual_services=model)
    assert str(error.value) == ("Service web: scheduler 'wrr\\nsh' is unknown; use one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos. "
                                "Service web2: scheduler '../../x' is unknown; use one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos.")


def test_the_fullnat_table_matches_each_service_with_the_model_defaults():
    with open(os.path.join(ROLE, "templates", "fullnat.nft.j2")) as handle:
        template = handle.read()
    services = [service for service in lvs_normalized_services(MODEL) if service["forwarding_method"] == "fullnat"]
    rules = [line.strip() for line in render(template, ansible_managed="managed", _director_fullnat_services=services,
                                             director_fullnat_snat_address="").splitlines() if line.strip().startswith("ct original")]
    assert rules == [
        'ct original ip6 daddr 2001:db8::53 meta l4proto udp ct original proto-dst 53 masquerade comment "dns"',
        # Port 0 is every port of the protocol.
        'ct original ip daddr 192.0.2.101 meta l4proto tcp masquerade comment "all-ports"',
        'ct original ip daddr 192.0.2.102 meta l4proto tcp ct original proto-dst 443 masquerade comment "web-fullnat"',
    ]


def role_file(*path):
    with open(os.path.join(ROLE, *path)) as handle:
        return handle.read()


def unit_settings(text):
    """{(section, key): value} of a systemd unit; each key this unit sets is set once."""
    settings, section = {}, None
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            assert (section, key) not in settings, "%s= is set twice in [%s]" % (key, section)
            settings[section, key] = value
    return settings


def test_the_boot_unit_feeds_the_rules_file_to_ipvsadm_restore():
    """The rules file starts with a '#' line that ipvsadm --restore refuses; ipvsadm-restore
    drops '#' lines before it runs ipvsadm --restore. One argv, no shell: the file comes in
    on standard input."""
    rules_file = yaml.safe_load(role_file("defaults", "main.yml"))["director_rules_file"]
    unit = unit_settings(render(role_file("templates", "lvs-topology-ipvs.service.j2"),
                                ansible_managed="managed", director_rules_file=rules_file))
    assert unit["Service", "ExecStart"] == "/usr/sbin/ipvsadm-restore"
    assert unit["Service", "StandardInput"] == "file:" + rules_file
    assert (unit["Service", "Type"], unit["Service", "RemainAfterExit"]) == ("oneshot", "yes")
    assert unit["Unit", "ConditionFileNotEmpty"] == rules_file
    # At boot, on a table nothing else has filled yet: ipvsadm-restore flushes first.
    assert "keepalived.service" in unit["Unit", "Before"].split()


def test_the_role_enables_the_boot_unit_and_never_starts_it():
    """ipvsadm-restore flushes the table before it loads the file: on a live director that is a
    moment without any service, so the role only enables the unit for the next boot."""
    tasks = yaml.safe_load(role_file("tasks", "restore.yml"))
    units = [task["ansible.builtin.systemd_service"] for task in tasks if "ansible.builtin.systemd_service" in task]
    assert units == [{"name": "{{ director_restore_unit }}", "enabled": True, "daemon_reload": "{{ _director_unit is changed }}"}]


def role_tasks():
    return yaml.safe_load(role_file("tasks", "main.yml"))


@pytest.mark.parametrize("name, once", [("_director_model", "_director_once_model"),
                                        ("_director_ipvs_config", "_director_once_ipvs_config")])
def test_the_model_is_worked_out_once_per_run_of_the_role_and_dropped_at_its_end(name, once):
    """The first tasks after the validation keep each costly value as a fact, in check mode and
    whatever the tags; the variables read the fact while it is set; the last task drops it, so
    a later run of the role, or another of its entry points, works the value out afresh."""
    tasks = role_tasks()
    first, last = [task for task in tasks if once in task.get("ansible.builtin.set_fact", {})]
    # Right after the validation, which reports every problem of the model before any filter fails.
    assert "validate.yml" in tasks[0]["ansible.builtin.include_tasks"] and tasks.index(first) in (1, 2)
    assert first["ansible.builtin.set_fact"] == {once: "{{ %s }}" % name}
    assert last["ansible.builtin.set_fact"][once] is None and last is tasks[-1]
    assert first["tags"] == last["tags"] == ["always"] and "check_mode" not in first
    text = yaml.safe_load(role_file("vars", "main.yml"))[name]
    assert render(text, **{once: "kept"}) == "kept"


def test_the_model_the_role_reads_is_small_and_is_what_the_services_say():
    model = role_variable("_director_model", lvs_virtual_services=MIXED_MODEL)
    assert model == role_variable("_director_model", lvs_virtual_services=MIXED_MODEL, _director_once_model=None)
    assert model == {"methods": ["dr", "fullnat", "tun"], "schedulers": [DEFAULT_SCHEDULER], "ipv6": True}
    assert role_variable("_director_ipv6", lvs_virtual_services=MIXED_MODEL[:1]) is False

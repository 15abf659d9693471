# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lvs_virtual_services data model: defaults, validation against gathered facts, and
the translations the roles need (ipvs_table config, the VIPs of a real server, gateways).

Private to the collection: this API may change without notice. It runs on the controller
only (filters), so it may use netaddr; callers turn TopologyError into AnsibleFilterError.

The values of a service follow the IPVS modules' rules, in the modules' words: each service
is translated into the lvs.topology.ipvs_table item it becomes and checked by the builders
of module_utils/ipvs/values.py, the code the module runs on the director. This file adds
what only the controller can tell: the model's own keys (the forwarding method fullnat, the
keepalived options), the real servers' addresses from their facts, and the checks across
services and hosts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import gc
import re
from collections import OrderedDict, namedtuple

from ansible.module_utils.common.validation import check_type_bool

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import (
    IpvsInputError, address_family, normalise_address, service_identity_config,
)
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.values import (
    DEFAULT_FORWARDING_METHOD, DEFAULT_PROTOCOL, DEFAULT_SCHEDULER, DEFAULT_WEIGHT, FORWARDING_METHODS as KERNEL_FORWARDING_METHODS,
    MAX_PORT, Findings, checked_int, desired_service_from_params, in_item, unknown_value, validated_service_item,
)

try:
    import netaddr
except ImportError:
    netaddr = None

# A service name is written into keepalived.conf (a "# Service <name>" line that the drain and
# enable playbooks look for) and into an nftables rule comment: it must never end a line, open
# or close a quote, or start a comment. Matched whole.
SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
SERVICE_NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or a digit"
# The keepalived options written into keepalived.conf as they are, each matched whole. An HTTP
# path: absolute, of the characters a URL path and query take, but for those keepalived.conf
# reads otherwise: no white space, quote, backslash, '#' or '!' (comments), '$' (its
# definitions), braces (its blocks) or control character.
HTTP_PATH = re.compile(r"/[A-Za-z0-9._~:/?@&()*+,;=%-]*")
HTTP_PATH_RULE = "an absolute path of letters, digits and -._~:/?@&()*+,;=%"
# A MISC_CHECK command: an absolute path to an executable, then arguments of the same safe
# characters, one space apart. keepalived runs it as root (the role sets script_user root
# and enable_script_security, so the script must not be writable by other users).
MISC_SCRIPT = re.compile(r"/[A-Za-z0-9._+/-]+(?: [A-Za-z0-9._+/=:,@%-]+)*")
MISC_SCRIPT_RULE = ("an absolute path to an executable, then arguments of letters, digits and ._+/=:,@%- one space apart "
                    "(keepalived runs it as root)")
HTTP_STATUSES = (100, 599)

# FULLNAT is IPVS masquerading plus SNAT on the director: the kernel table only knows "nat".
FORWARDING_METHODS = KERNEL_FORWARDING_METHODS + ("fullnat",)
IPVS_FORWARDING = dict([(method, method) for method in KERNEL_FORWARDING_METHODS], fullnat="nat")

SERVICE_DEFAULTS = {
    "port": None,
    "protocol": DEFAULT_PROTOCOL,
    "fwmark": None,
    "scheduler": DEFAULT_SCHEDULER,
    "flags": [],
    "persistence": None,
    "forwarding_method": DEFAULT_FORWARDING_METHOD,
    # Options only the keepalived backend reads (health checks, sorry server, quorum).
    "keepalived": None,
}
SERVICE_REQUIRED = ("name", "vip", "real_servers")
PERSISTENCE_KEYS = ("timeout", "netmask", "engine")
REAL_SERVER_DEFAULTS = {
    "port": None,
    "weight": DEFAULT_WEIGHT,
    "upper_threshold": None,
    "lower_threshold": None,
    # Unset, the service's: ipvsadm -a takes a method per real server, so one pool may mix them.
    "forwarding_method": None,
}
KEEPALIVED_DEFAULTS = {
    "delay_loop": 5,
    # Each key of HEALTH_CHECK_DEFAULTS unless given.
    "health_check": {},
    "sorry_server": None,
    "quorum": None,
    "inhibit_on_failure": False,
}
HEALTH_CHECK_DEFAULTS = {
    "type": "tcp",
    "path": "/",
    "status": 200,
    "script": None,
    "connect_timeout": 3,
    "retry": 1,
    "delay_before_retry": 1,
}
HEALTH_CHECK_TYPES = ("tcp", "http", "misc", "none")
# keepalived's lb_kind: FULLNAT is NAT in the kernel (the director role adds the SNAT).
KEEPALIVED_LB_KIND = {"dr": "DR", "nat": "NAT", "tun": "TUN", "fullnat": "NAT"}
# The variable of a NAT real server that names its gateway, by the address family of its RIP.
NAT_GATEWAY_VARIABLES = {4: "real_server_nat_gateway", 6: "real_server_nat_gateway6"}
# The largest count or number of seconds a keepalived option takes (its parser reads ints).
MAX_KEEPALIVED_NUMBER = 2147483647


class TopologyError(Exception):
    """The data model cannot be used; the message is one sentence for the user."""


def _collector_paused(function):
    """function, run with Python's cyclic garbage collector paused.

    Reading a big table allocates hundreds of thousands of objects (Ansible's lazy containers
    hand each value over as a new one) and leaves none in a reference cycle, yet every
    thousand allocations start a collection, and the oldest generation's walk over every
    object of the worker - the inventory's variables too - grows with the table: at 50 000
    rules the collections took a quarter of the filter's time. Whatever cycles there are
    wait for the first collection after it.
    """
    @functools.wraps(function)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()
    return paused


def require_netaddr():
    if netaddr is None:
        raise TopologyError("netaddr is required for the lvs.topology filters: install it on the controller (pip install netaddr).")


def _ip(value, what):
    try:
        return netaddr.IPAddress(str(value))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise TopologyError("%s %r is not an IP address." % (what, value))


def _literal_address(value):
    """A real-server host given as an address, normalised as the modules read it; None for a name."""
    try:
        return normalise_address(value)[0]
    except IpvsInputError:
        return None


def _unknown_keys(item, allowed, what):
    unknown = sorted(set(item) - set(allowed), key=str)
    if not unknown:
        return []
    return ["%s has unknown key(s) %s; allowed: %s." % (what, ", ".join(str(key) for key in unknown), ", ".join(sorted(allowed)))]


class _Reading(object):
    """The problems found while reading one service, each a sentence naming where it is."""

    def __init__(self, what):
        self.what = what
        self.problems = []

    def add(self, sentence):
        self.problems.append(sentence)


# The host of a real-server entry that has none (or is no mapping): no address is read from
# it, so its translation keeps its place in the list and every other entry keeps its index.
NO_HOST = ""


def _read_real_server(item, where, reading, service_method):
    """The entry with its defaults filled in, its forwarding method the service's unless it
    has its own (None when unknown); an unusable one reads as a host of NO_HOST."""
    real_server = dict(REAL_SERVER_DEFAULTS, host=NO_HOST, forwarding_method=service_method)
    if not isinstance(item, dict):
        reading.add("%s must be a mapping, got %r." % (where, item))
        return real_server
    for problem in _unknown_keys(item, ("host",) + tuple(REAL_SERVER_DEFAULTS), where):
        reading.add(problem)
    real_server.update((key, value) for key, value in item.items() if value is not None and key in real_server)
    real_server["host"] = str(real_server["host"])
    if real_server["host"] == NO_HOST:
        reading.add("%s has no host (an inventory name or an address)." % where)
    if item.get("forwarding_method") is not None and item["forwarding_method"] not in FORWARDING_METHODS:
        reading.add("%s: %s" % (where, unknown_value("forwarding_method", item["forwarding_method"], FORWARDING_METHODS)))
        real_server["forwarding_method"] = None
    return real_server


def _read_keepalived(item, reading):
    """The keepalived options with their defaults; None when they cannot be used."""
    what = reading.what + " keepalived"
    if not isinstance(item, dict):
        reading.add("%s must be a mapping, got %r." % (what, item))
        return None
    problems = _unknown_keys(item, tuple(KEEPALIVED_DEFAULTS), what)
    options = dict(KEEPALIVED_DEFAULTS)
    options.update((key, value) for key, value in item.items() if value is not None and key in KEEPALIVED_DEFAULTS)
    options["delay_loop"] = _number(options["delay_loop"], what + " delay_loop", problems)
    if options["quorum"] is not None:
        options["quorum"] = _number(options["quorum"], what + " quorum", problems)
    try:
        options["inhibit_on_failure"] = check_type_bool(options["inhibit_on_failure"])
    except TypeError:
        problems.append("%s inhibit_on_failure must be true or false, got %r." % (what, options["inhibit_on_failure"]))
    options["health_check"] = _read_health_check(options["health_check"], what + " health_check", problems)
    options["sorry_server"] = _read_sorry_server(options["sorry_server"], what + " sorry_server", problems)
    for problem in problems:
        reading.add(problem)
    return None if problems else options


def _read_health_check(item, what, problems):
    check = dict(HEALTH_CHECK_DEFAULTS)
    if not isinstance(item, dict):
        problems.append("%s must be a mapping, got %r." % (what, item))
        return check
    problems.extend(_unknown_keys(item, tuple(HEALTH_CHECK_DEFAULTS), what))
    check.update((key, value) for key, value in item.items() if value is not None and key in HEALTH_CHECK_DEFAULTS)
    if check["type"] not in HEALTH_CHECK_TYPES:
        problems.append("%s %s" % (what, unknown_value("type", check["type"], HEALTH_CHECK_TYPES)))
    if not (isinstance(check["path"], str) and HTTP_PATH.fullmatch(check["path"])):
        problems.append("%s path %r is not %s." % (what, check["path"], HTTP_PATH_RULE))
    if check["script"] is not None and not (isinstance(check["script"], str) and MISC_SCRIPT.fullmatch(check["script"])):
        problems.append("%s script %r is not %s." % (what, check["script"], MISC_SCRIPT_RULE))
    if check["type"] == "misc" and not check["script"]:
        problems.append("%s of type misc needs a script." % what)
    check["status"] = _number(check["status"], what + " status", problems, *HTTP_STATUSES)
    for key in ("connect_timeout", "retry", "delay_before_retry"):
        check[key] = _number(check[key], "%s %s" % (what, key), problems)
    return check


def _read_sorry_server(item, what, problems):
    if item is None:
        return None
    if not isinstance(item, dict):
        problems.append("%s must be a mapping, got %r." % (what, item))
        return None
    problems.extend(_unknown_keys(item, ("host", "port"), what))
    sorry = {"host": str(item.get("host") or NO_HOST), "port": None}
    if sorry["host"] == NO_HOST:
        problems.append("%s has no host (an inventory name or an address)." % what)
    if item.get("port") is not None:
        sorry["port"] = _number(item["port"], what + " port", problems, 1, MAX_PORT)
    return sorry


def _number(value, what, problems, minimum=0, maximum=MAX_KEEPALIVED_NUMBER):
    """value as an int within [minimum, maximum] by the modules' rule, or None and a problem."""
    try:
        return checked_int(value, what, minimum, maximum)
    except IpvsInputError as error:
        problems.append(str(error))
        return None


# A service as read from the model: the service (defaults filled in), where it is for the
# sentences, whether its name is safe, and whether it was read without a problem.
ReadService = namedtuple("ReadService", "service where named clean")


def _read_service(item, index):
    """(a ReadService or None when it cannot even be translated into an ipvs_table item, the problems)."""
    reading = _Reading("lvs_virtual_services[%d]" % index)
    if not isinstance(item, dict):
        reading.add("%s must be a mapping, got %r." % (reading.what, item))
        return None, reading.problems
    service = dict(SERVICE_DEFAULTS)
    service.update((key, value) for key, value in item.items() if value is not None and (key in service or key in SERVICE_REQUIRED))
    named = False
    if service.get("name") is not None:
        service["name"] = str(service["name"])
        named = bool(SERVICE_NAME.fullmatch(service["name"]))
        if named:
            reading.what = _where(service)
        else:
            # The name stays out of every sentence: the service is named by its place.
            reading.add("%s name %r is not a safe name: use %s." % (reading.what, service["name"], SERVICE_NAME_RULE))
    for problem in _unknown_keys(item, SERVICE_REQUIRED + tuple(SERVICE_DEFAULTS), reading.what):
        reading.add(problem)
    missing = [key for key in SERVICE_REQUIRED if service.get(key) is None]
    for key in missing:
        reading.add("%s has no %s." % (reading.what, key))
    if "name" in missing:
        return None, reading.problems
    if "vip" not in missing:
        try:
            # In the module's words: the VIP is the address of the virtual service it checks.
            service["vip"] = normalise_address(service["vip"], "Virtual service address")[0]
        except IpvsInputError as error:
            reading.add("%s: %s" % (reading.what, error))
            missing.append("vip")
    if service["forwarding_method"] not in FORWARDING_METHODS:
        reading.add("%s: %s" % (reading.what, unknown_value("forwarding_method", service["forwarding_method"], FORWARDING_METHODS)))
        service["forwarding_method"] = None
    if service["protocol"] == "fwmark" and service["port"] is not None:
        # Not the kernel's (a fwmark service has no port) but the health checks' default port.
        service["port"] = _number(service["port"], reading.what + " port", reading.problems, 1, MAX_PORT)
    if isinstance(service["flags"], str):
        service["flags"] = [flag for flag in service["flags"].split(",") if flag]
    if service["persistence"] is not None:
        if not isinstance(service["persistence"], dict):
            reading.add("%s persistence must be a mapping, got %r." % (reading.what, service["persistence"]))
            service["persistence"] = None
        else:
            for problem in _unknown_keys(service["persistence"], PERSISTENCE_KEYS, reading.what + " persistence"):
                reading.add(problem)
    if service["keepalived"] is not None:
        service["keepalived"] = _read_keepalived(service["keepalived"], reading)
    if "real_servers" not in missing:
        if not isinstance(service["real_servers"], list):
            reading.add("%s real_servers must be a list, got %r." % (reading.what, service["real_servers"]))
            missing.append("real_servers")
        else:
            service["real_servers"] = [_read_real_server(real_server, "%s.real_servers[%d]" % (reading.what, position), reading,
                                                         service["forwarding_method"])
                                       for position, real_server in enumerate(service["real_servers"])]
    if "vip" in missing or "real_servers" in missing:
        return None, reading.problems
    return ReadService(service, reading.what, named, not reading.problems), reading.problems


def _read_all(services):
    """([ReadService], problems) of every service the model's shape lets through to the check
    of its values."""
    if services is None:
        return [], []
    if not isinstance(services, list):
        return [], ["lvs_virtual_services must be a list of services, got %s." % type(services).__name__]
    readable, problems = [], []
    for index, item in enumerate(services):
        read, found = _read_service(item, index)
        problems.extend(found)
        if read is not None:
            readable.append(read)
    return readable, problems


def ipvs_item(service, address_of_real_server):
    """The lvs.topology.ipvs_table config item of a read service, before any check of its values.

    address_of_real_server(real server) gives the address to put in each real-server item.
    """
    item = {"protocol": service["protocol"], "scheduler": service["scheduler"]}
    if service["protocol"] == "fwmark":
        item["fwmark"] = service["fwmark"]
        item["family"] = address_family(service["vip"])
    else:
        item["address"] = service["vip"]
        item["port"] = service["port"]
    if service["flags"]:
        item["scheduler_flags"] = service["flags"]
    for key in PERSISTENCE_KEYS:
        if (service["persistence"] or {}).get(key) is not None:
            item["persistence_" + key] = service["persistence"][key]
    item["real_servers"] = []
    for real_server in service["real_servers"]:
        entry = {"address": address_of_real_server(real_server)}
        # An unknown method is a problem of the model already: the real server is checked
        # without it, and without its port, whose rules depend on it.
        method = real_server["forwarding_method"]
        if method is not None:
            entry["forwarding_method"] = IPVS_FORWARDING[method]
        for key in ("port", "weight", "upper_threshold", "lower_threshold"):
            if real_server[key] is not None and (method is not None or key != "port"):
                entry[key] = real_server[key]
        item["real_servers"].append(entry)
    return item


def _where(service):
    return "Service %s" % service["name"]


# A service whose values the builders accept: the service (normalised) and, when asked for
# and told by the check already, its ipvs_table config entry (else None).
CheckedService = namedtuple("CheckedService", "service entry")


def _values_checked(readable, address_reader, entries=False):
    """([CheckedService] of the services whose values the builders accept; the problems of
    every service's values). Each service's ipvs_table item is checked by the module's own
    builders, every problem kept; address_reader(service) reads its real servers' addresses
    (see Findings). With entries, each service whose real servers are all given by address
    gets its config entry from that check (see _entry_of_addresses)."""
    checked, problems = [], []
    for read in readable:
        item = ipvs_item(read.service, lambda real_server: real_server["host"])
        desired, found = _built(read, item, address_reader)
        problems.extend(found)
        if read.clean and not found:
            _normalise_from(read.service, desired)
            checked.append(CheckedService(read.service, _entry_of_addresses(read.service, item, desired) if entries else None))
    return checked, problems


def _entry_of_addresses(service, checked_item, desired):
    """The service's config entry when its real servers are all given by address, so their
    RIPs (the addresses as the module writes them) need no facts, and its item with those RIPs
    is the one the builders checked (or differs only by values they normalised, which they read
    back alike); None otherwise. Built now, the service's DesiredService is not kept."""
    item = ipvs_item(service, lambda real_server: _literal_address(real_server["host"]))
    return _config_entry(item, desired) if item == checked_item else None


def _built(read, item, address_reader):
    """(the DesiredService the builders make of a read service's item, every problem of its values)."""
    if read.clean:
        try:
            # The module's own path first: it stops at the first problem, so it needs no
            # Findings, and checks a real server seen in another service only for its port,
            # which is most of a big table. A service it refuses, or whose real servers are
            # named rather than given by address, is checked again for every problem.
            return desired_service_from_params(validated_service_item(item, read.where), {}, read.where, purge_default=True), []
        except IpvsInputError:
            pass
    findings = Findings(read.where, address_reader(read.service))
    params = validated_service_item(item, read.where, findings)
    desired = desired_service_from_params(params, {}, read.where, purge_default=True, findings=findings)
    return desired, findings.sentences


def _literal_addresses_only(service):
    """The address reader without facts: only a real server given as an address has one."""
    return lambda host, what: _literal_address(host)


def _normalise_from(service, desired):
    """The service's values as the builders read them (ints, the scheduler's flags in order)."""
    settings = desired.settings
    if desired.service.protocol != "fwmark":
        service["port"] = desired.service.port
    else:
        service["fwmark"] = desired.service.fwmark
    service["scheduler"] = settings.scheduler
    service["flags"] = list(settings.scheduler_flags)
    if service["persistence"] is not None:
        service["persistence"] = {"timeout": settings.persistence_timeout, "netmask": settings.persistence_netmask,
                                  "engine": settings.persistence_engine}


def read_services(services):
    """(the services with their defaults filled in and their values normalised, every problem
    their values have without the facts of any host). A service with a problem is left out."""
    checked, problems = _checked_services(services)
    return [service for service, dummy in checked], problems


def _checked_services(services, entries=False):
    """([CheckedService], every problem of the services' values without the facts of any host)."""
    readable, problems = _read_all(services)
    checked, found = _values_checked(readable, _literal_addresses_only, entries)
    return checked, problems + found


def _usable_services(services, entries=False):
    """[CheckedService] of every service; raise TopologyError with every problem of their values."""
    require_netaddr()
    checked, problems = _checked_services(services, entries)
    if problems:
        raise TopologyError(" ".join(problems))
    return checked


@_collector_paused
def normalize_services(services, hostvars=None, directors=None):
    """Return a copy of lvs_virtual_services with every default filled in; raise TopologyError
    with every problem of its values. With hostvars, each real server also gets its address
    (its RIP, as ipvs_config resolves it; TopologyError when it cannot be told)."""
    services = [service for service, dummy in _usable_services(services)]
    if hostvars is not None:
        topology = Topology(services, hostvars, directors)
        for service in services:
            for real_server in service["real_servers"]:
                real_server["address"] = topology.rip(service, real_server)
    return services


def _facts(hostvars, host):
    variables = hostvars.get(host) or {}
    facts = variables.get("ansible_facts") or {}
    return facts if facts.get("interfaces") else None


def host_interfaces(facts):
    """[(interface, IPNetwork address/prefix)] of a host's non-loopback, non-link-local addresses."""
    found = []
    for name in facts.get("interfaces", []):
        nic = facts.get(name.replace("-", "_").replace(".", "_").replace(":", "_")) or {}
        if nic.get("type") == "loopback" or name == "lo":
            continue
        ipv4 = [nic["ipv4"]] if isinstance(nic.get("ipv4"), dict) else list(nic.get("ipv4") or [])
        for entry in ipv4 + list(nic.get("ipv4_secondaries") or []):
            if entry.get("address") and entry.get("netmask"):
                found.append((name, netaddr.IPNetwork("%s/%s" % (entry["address"], entry["netmask"]))))
        for entry in nic.get("ipv6") or []:
            if entry.get("address") and entry.get("scope") != "link":
                found.append((name, netaddr.IPNetwork("%s/%s" % (entry["address"], entry.get("prefix", 128)))))
    return found


class Topology:
    """The services read from the model plus what the gathered facts say about every host."""

    def __init__(self, services, hostvars, directors):
        self.services = services
        self.hostvars = hostvars or {}
        self.directors = list(directors or [])
        self.vips = set(netaddr.IPAddress(s["vip"]) for s in self.services)
        self._addresses = {}
        counts = {}
        for host in self._hosts_of_interest():
            facts = _facts(self.hostvars, host)
            if facts is None:
                continue
            networks = [(nic, net) for nic, net in host_interfaces(facts) if net.ip not in self.vips]
            self._addresses[host] = networks
            for address in set(net.ip for nic, net in networks):
                counts[address] = counts.get(address, 0) + 1
        # An address that several hosts carry (QEMU's user network, an anycast address)
        # identifies none of them: it is never taken as a RIP or a DIP.
        self.shared = set(address for address, count in counts.items() if count > 1)

    def _hosts_of_interest(self):
        hosts = set(self.directors)
        for service in self.services:
            hosts.update(rs["host"] for rs in service["real_servers"] if rs["host"] in self.hostvars)
            sorry = (service["keepalived"] or {}).get("sorry_server") or {}
            if sorry.get("host") in self.hostvars:
                hosts.add(sorry["host"])
        return sorted(hosts)

    def networks(self, host):
        """[(interface, IPNetwork)] of a host, None when its facts were not gathered."""
        if host not in self._addresses:
            return None
        return [(nic, net) for nic, net in self._addresses[host] if net.ip not in self.shared]

    def director_networks(self, director):
        return self.networks(director) or []

    def director_address_on(self, director, address):
        """The director's address in the subnet of address (None when not on-link)."""
        for nic, net in self.director_networks(director):
            if address in net and net.ip.version == address.version:
                return net.ip
        return None

    def on_director_segment(self, address):
        """True when address shares a subnet with every director whose facts are known."""
        known = [d for d in self.directors if self.networks(d) is not None]
        return bool(known) and all(self.director_address_on(d, address) is not None for d in known)

    def resolve(self, service, real_server, role="real server"):
        """The RIP of a real server entry (netaddr.IPAddress); raise TopologyError when unknown.

        role names the entry in the sentences (a sorry_server is resolved the same way).
        """
        host = real_server["host"]
        family = netaddr.IPAddress(service["vip"]).version
        literal = _literal_address(host)
        if literal is not None:
            return netaddr.IPAddress(literal)
        if host not in self.hostvars:
            raise TopologyError("Service %s names %s %r, which is neither an address nor an inventory host." % (service["name"], role, host))
        networks = self.networks(host)
        if networks is None:
            raise TopologyError("Service %s names %s %s, whose facts were not gathered: gather facts on it first (site.yml does)."
                                % (service["name"], role, host))
        candidates = [net.ip for nic, net in networks if net.ip.version == family]
        if not candidates:
            raise TopologyError("%s %s of service %s has no IPv%d address." % (role.capitalize(), host, service["name"], family))
        # A director-segment address first: DR and NAT need it, FULLNAT prefers it.
        for address in candidates:
            if self.on_director_segment(address):
                return address
        facts = _facts(self.hostvars, host)
        default = (facts.get("default_ipv4" if family == 4 else "default_ipv6") or {}).get("address")
        if default and netaddr.IPAddress(default) in candidates:
            return netaddr.IPAddress(default)
        return candidates[0]

    def rip(self, service, real_server):
        """The RIP of a real server entry as the modules write addresses; raise TopologyError when unknown."""
        # A literal address is most of a big table: it needs no netaddr round trip.
        return _literal_address(real_server["host"]) or str(self.resolve(service, real_server))

    def address_reader(self, service):
        """The reader of real-server addresses for Findings: the RIP, or None when it cannot be
        told (the cross-host checks say why)."""
        def address_of(host, what):
            try:
                return self.rip(service, {"host": host})
            except TopologyError:
                return None
        return address_of

    def host_matches(self, real_server, inventory_hostname, addresses):
        """True when a real server entry designates this host (by name or by one of its addresses)."""
        host = real_server["host"]
        if host == inventory_hostname:
            return True
        wanted = _literal_address(host)
        return wanted is not None and any(_literal_address(address) == wanted for address in addresses or [])

    def nat_gateway(self, address):
        """The DIP a NAT real server with this address routes through (first director on-link)."""
        for director in self.directors:
            dip = self.director_address_on(director, address)
            if dip is not None:
                return dip
        return None


def _topology(services, hostvars, directors):
    return Topology(normalize_services(services), hostvars, directors)


def _service_key(service):
    if service["protocol"] == "fwmark":
        return ("fwmark", service["fwmark"], netaddr.IPAddress(service["vip"]).version)
    return (service["protocol"], netaddr.IPAddress(service["vip"]), service["port"])


def _describe_key(key):
    if key[0] == "fwmark":
        return "fwmark %s (IPv%d)" % (key[1], key[2])
    return "%s %s port %s" % (key[0], key[1], key[2])


@_collector_paused
def topology_problems(services, hostvars, directors):
    """Every problem of the model, one sentence each; an empty list means it can be deployed.

    The values of each service are checked whatever the facts say (a real server whose
    address cannot be told is checked but for its address); the checks across services take
    the services whose own values are right.
    """
    readable, problems = _read_all(services)
    topology = Topology([read.service for read in readable], hostvars, directors)
    checked, found = _values_checked(readable, topology.address_reader)
    problems.extend(found)
    problems.extend(_across_services([service for service, dummy in checked]))
    for director in topology.directors:
        if director not in topology.hostvars:
            problems.append("Director %s is not an inventory host." % director)
        elif topology.networks(director) is None:
            problems.append("Director %s has no gathered facts: gather facts on it first (site.yml does)." % director)
    for read in readable:
        if read.named:
            problems.extend(_service_problems(topology, read.service))
    # A real server listed twice would otherwise tell its cross-host problem twice. Kept in
    # their order by a dict: a list's own search for each problem is quadratic in their number.
    return list(OrderedDict.fromkeys(problems))


def _across_services(services):
    problems = []
    seen_names, seen_keys = {}, {}
    for service in services:
        name = service["name"]
        if name in seen_names:
            problems.append("Service name %s is used twice." % name)
        seen_names[name] = True
        key = _service_key(service)
        if key in seen_keys:
            problems.append("Services %s and %s both claim %s." % (seen_keys[key], name, _describe_key(key)))
        else:
            seen_keys[key] = name
    return problems


def _service_problems(topology, service):
    """The problems of a service's real servers that only the facts of the hosts tell, each
    by the forwarding method of that real server."""
    problems = []
    name = service["name"]
    vip = netaddr.IPAddress(service["vip"])
    methods_of_rip = {}
    for real_server in service["real_servers"]:
        method = real_server["forwarding_method"]
        if real_server["host"] == NO_HOST:
            continue
        try:
            rip = topology.resolve(service, real_server)
        except TopologyError as error:
            problems.append(str(error))
            continue
        label = real_server["host"] if real_server["host"] == str(rip) else "%s (%s)" % (real_server["host"], rip)
        methods_of_rip.setdefault(rip, []).append(method)
        # The kernel tunnels across families (the modules allow it); the real-server roles do not.
        if method == "tun" and rip.version != vip.version:
            problems.append("Service %s mixes IPv%d VIP %s with IPv%d real server %s." % (name, vip.version, vip, rip.version, label))
        if rip in topology.vips:
            problems.append("Real server %s of service %s uses a VIP as its RIP." % (label, name))
        if method in ("dr", "nat") and topology.directors and not topology.on_director_segment(rip):
            need = "on a director's L2 segment" if method == "dr" else "on a director segment so its default gateway can be the DIP"
            problems.append("%s must be %s; no director has an address in its subnet." % (_real_server_of(service, real_server, label), need))
        if method == "nat" and topology.on_director_segment(rip):
            problems.extend(_nat_gateway_problems(topology, service, real_server, rip, label))
    # The director's FULLNAT rule of a pool that mixes methods matches its FULLNAT real servers by
    # address (roles/director/templates/fullnat.nft.j2): a NAT entry of the same address would be
    # translated too.
    for rip, methods in sorted(methods_of_rip.items()):
        others = sorted(set(methods) - {"fullnat", None})
        if "fullnat" in methods and others:
            problems.append("Service %s lists real server %s both as fullnat and as %s: the director's source NAT tells FULLNAT real servers "
                            "by address, so an address of one service is either fullnat or not." % (name, rip, " and ".join(others)))
    sorry = (service["keepalived"] or {}).get("sorry_server")
    if sorry:
        try:
            topology.resolve(service, sorry, "sorry_server")
        except TopologyError as error:
            problems.append(str(error))
    return problems


def _real_server_of(service, real_server, label):
    """A real server as the sentences name it, with the method the director forwards to it by."""
    method = real_server["forwarding_method"]
    if method == service["forwarding_method"]:
        return "Real server %s of %s service %s" % (label, method.upper(), service["name"])
    return "Real server %s of service %s, forwarded by %s," % (label, service["name"], method.upper())


def _nat_gateway_problems(topology, service, real_server, rip, label):
    host = real_server["host"]
    variable = NAT_GATEWAY_VARIABLES[rip.version]
    wanted = (topology.hostvars.get(host) or {}).get(variable)
    which = _real_server_of(service, real_server, label)
    if wanted is None:
        if len(topology.directors) > 1:
            return ["%s has %d directors to choose from: set %s to the DIP they share." % (which, len(topology.directors), variable)]
        return []
    try:
        gateway = _ip(wanted, "%s of %s" % (variable, host))
    except TopologyError as error:
        return [str(error)]
    segment = [net for nic, net in topology.networks(host) or [] if net.ip == rip]
    if segment and gateway not in segment[0]:
        return ["%s has %s %s outside its subnet %s." % (which, variable, gateway, segment[0].cidr)]
    return []


def _desired(topology, service):
    """The DesiredService the ipvs_table module will build from the service; raise TopologyError
    with its first problem (with the RIPs resolved, which a model without facts cannot check)."""
    where = _where(service)
    item = ipvs_item(service, lambda real_server: topology.rip(service, real_server))
    try:
        return item, desired_service_from_params(validated_service_item(item, where), {}, where, purge_default=True)
    except IpvsInputError as error:
        raise TopologyError(str(in_item(where, error)))


def _config_entry(item, desired):
    """The ipvs_table config of a service: the options the model sets, as the builders read them."""
    service, settings = desired.service, desired.settings
    entry = dict(service_identity_config(service), scheduler=settings.scheduler)
    if settings.scheduler_flags:
        entry["scheduler_flags"] = list(settings.scheduler_flags)
    if "persistence_timeout" in item:
        entry["persistence_timeout"] = settings.persistence_timeout
    if settings.persistence_netmask is not None:
        entry["persistence_netmask"] = str(settings.persistence_netmask)
    if settings.persistence_engine:
        entry["persistence_engine"] = settings.persistence_engine
    entry["real_servers"] = []
    for given, real_server in zip(item["real_servers"], desired.real_servers.values()):
        server = {"address": real_server.address, "forwarding_method": real_server.forwarding_method, "weight": real_server.weight}
        # A fwmark service's real servers have a port only when the model gives one.
        if "port" in given or service.protocol != "fwmark":
            server["port"] = real_server.port
        for key in ("upper_threshold", "lower_threshold"):
            if key in given:
                server[key] = getattr(real_server, key)
        entry["real_servers"].append(server)
    return entry


def _configured(services, hostvars, directors):
    """(the Topology of lvs_virtual_services, their ipvs_table config, service by service)."""
    checked = _usable_services(services, entries=True)
    topology = Topology([service for service, dummy in checked], hostvars, directors)
    return topology, [_config_entry(*_desired(topology, service)) if entry is None else entry for service, entry in checked]


@_collector_paused
def ipvs_config(services, hostvars, directors):
    """lvs_virtual_services as the `config` list of lvs.topology.ipvs_table."""
    return _configured(services, hostvars, directors)[1]


@_collector_paused
def keepalived_virtual_servers(services, hostvars, directors):
    """lvs_virtual_services as keepalived virtual_server blocks: the ipvs_table config of each
    service plus lb_kind, the health check, sorry server, quorum and inhibit_on_failure."""
    topology, config = _configured(services, hostvars, directors)
    blocks = []
    for service, entry in zip(topology.services, config):
        options = service["keepalived"] or _read_keepalived({}, _Reading(_where(service)))
        block = dict(entry, name=service["name"], lb_kind=KEEPALIVED_LB_KIND[service["forwarding_method"]])
        # keepalived takes the virtual server's lb_kind for each real server without an lvs_method of its own.
        for real_server, server in zip(service["real_servers"], block["real_servers"]):
            server["lb_kind"] = KEEPALIVED_LB_KIND[real_server["forwarding_method"]]
        block.update((key, value) for key, value in options.items() if key != "sorry_server")
        block["sorry_server"] = None
        sorry = options["sorry_server"]
        if sorry:
            block["sorry_server"] = {
                "address": str(topology.resolve(service, sorry, "sorry_server")),
                "port": service["port"] if sorry["port"] is None else sorry["port"],
            }
        blocks.append(block)
    return blocks


@_collector_paused
def real_server_entries(services, hostvars, directors, host):
    """Every (virtual service, real server) pair that names host, in the shape of the
    lvs.topology.ipvs_real_server options, with the weight the model gives it."""
    topology, config = _configured(services, hostvars, directors)
    addresses = [str(net.ip) for nic, net in topology.networks(host) or []]
    wanted = _literal_address(host)
    entries = []
    for service, entry in zip(topology.services, config):
        identity = dict((key, entry[key]) for key in ("protocol", "address", "port", "fwmark", "family") if key in entry)
        for real_server, resolved in zip(service["real_servers"], entry["real_servers"]):
            # An address designates the real server whose RIP it is, however the model names it.
            if topology.host_matches(real_server, host, addresses) or (wanted is not None and wanted == resolved["address"]):
                entries.append(dict(resolved, service=service["name"], virtual_service=identity))
    return entries


def real_server_vips(services, inventory_hostname, addresses, forwarding_methods):
    """The sorted VIPs this host serves as a real server forwarded to by one of the given methods."""
    topology = _topology(services, {}, [])
    vips = set()
    for service in topology.services:
        if any(rs["forwarding_method"] in forwarding_methods and topology.host_matches(rs, inventory_hostname, addresses)
               for rs in service["real_servers"]):
            vips.add(netaddr.IPAddress(service["vip"]))
    return [str(vip) for vip in sorted(vips)]


def nat_gateway(services, hostvars, directors, inventory_hostname, addresses, family=4):
    """The DIP of the given address family a NAT real server must use as its default gateway
    (None when it is a NAT real server of no service of that family)."""
    if str(family) not in ("4", "6"):
        raise TopologyError("family must be 4 or 6, got %r." % (family,))
    family = int(family)
    topology = _topology(services, hostvars, directors)
    for service in topology.services:
        # NAT keeps the VIP's family: the RIP, hence the DIP, is of the same.
        if netaddr.IPAddress(service["vip"]).version != family:
            continue
        for real_server in service["real_servers"]:
            if real_server["forwarding_method"] == "nat" and topology.host_matches(real_server, inventory_hostname, addresses):
                gateway = topology.nat_gateway(topology.resolve(service, real_server))
                if gateway is None:
                    raise TopologyError("No director has an address in the subnet of NAT real server %s: set %s."
                                        % (inventory_hostname, NAT_GATEWAY_VARIABLES[family]))
                return str(gateway)
    return None


def director_vips(services, facts, interface=None):
    """[{address, prefix, interface, label}] of the VIPs a director carries.

    Each VIP goes on the interface whose subnet holds it (the client-facing one), else on
    the given interface, else on the interface of the default route; IPv4 VIPs get an
    eth0:N label as in the seeds (IPv6 addresses have no labels).
    """
    topology = _topology(services, {}, [])
    # /32 and /128 entries are VIPs already in place, not subnets.
    networks = [(nic, net) for nic, net in host_interfaces(facts or {}) if net.size > 1]
    labels_used = {}
    result = []
    for vip in sorted(set(netaddr.IPAddress(s["vip"]) for s in topology.services)):
        holder = [nic for nic, net in networks if vip in net]
        default = (facts or {}).get("default_ipv4" if vip.version == 4 else "default_ipv6") or {}
        nic = holder[0] if holder else (interface or default.get("interface"))
        if not nic:
            raise TopologyError("VIP %s is in no subnet of this director and there is no default route: set director_vip_interface." % vip)
        entry = {"address": str(vip), "prefix": 32 if vip.version == 4 else 128, "interface": nic, "label": None}
        if vip.version == 4:
            index = labels_used.get(nic, 0)
            labels_used[nic] = index + 1
            entry["label"] = "%s:%d" % (nic, index)
        result.append(entry)
    return result

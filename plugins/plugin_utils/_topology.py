# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lvs_virtual_services data model: defaults, validation against gathered facts, and
the translations the roles need (ipvs_table config, the VIPs of a real server, gateways).

Private to the collection: this API may change without notice. It runs on the controller
only (filters), so it may use netaddr; callers turn TopologyError into AnsibleFilterError.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import netaddr
except ImportError:
    netaddr = None

FORWARDING_METHODS = ("dr", "nat", "tun", "fullnat")
PROTOCOLS = ("tcp", "udp", "sctp", "fwmark")
# FULLNAT is IPVS masquerading plus SNAT on the director: the kernel table only knows "nat".
IPVS_FORWARDING = {"dr": "dr", "nat": "nat", "tun": "tun", "fullnat": "nat"}

SERVICE_DEFAULTS = {
    "port": None,
    "protocol": "tcp",
    "fwmark": None,
    "scheduler": "wlc",
    "flags": [],
    "persistence": None,
    "forwarding_method": "dr",
    # Options only the keepalived backend reads (health checks, sorry server, quorum).
    "keepalived": None,
}
SERVICE_REQUIRED = ("name", "vip", "real_servers")
PERSISTENCE_KEYS = ("timeout", "netmask", "engine")
REAL_SERVER_DEFAULTS = {
    "port": None,
    "weight": 1,
    "upper_threshold": None,
    "lower_threshold": None,
}
KEEPALIVED_DEFAULTS = {
    "delay_loop": 5,
    "health_check": {"type": "tcp"},
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


class TopologyError(Exception):
    """The data model cannot be used; the message is one sentence for the user."""


def require_netaddr():
    if netaddr is None:
        raise TopologyError("netaddr is required for the lvs.topology filters: install it on the controller (pip install netaddr).")


def _ip(value, what):
    try:
        return netaddr.IPAddress(str(value))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise TopologyError("%s %r is not an IP address." % (what, value))


def _is_ip(value):
    try:
        netaddr.IPAddress(str(value))
        return True
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return False


def _port(value, what):
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise TopologyError("%s %r is not a port number." % (what, value))
    if not 1 <= port <= 65535:
        raise TopologyError("%s %r is outside 1-65535." % (what, value))
    return port


def _check_keys(item, allowed, what):
    if not isinstance(item, dict):
        raise TopologyError("%s must be a mapping, got %r." % (what, item))
    unknown = sorted(set(item) - set(allowed))
    if unknown:
        raise TopologyError("%s has unknown key(s) %s; allowed: %s." % (what, ", ".join(unknown), ", ".join(sorted(allowed))))


def _normalize_real_server(item, service, index):
    what = "Real server %d of service %s" % (index + 1, service["name"])
    _check_keys(item, ("host",) + tuple(REAL_SERVER_DEFAULTS), what)
    if not item.get("host"):
        raise TopologyError("%s has no host (an inventory name or an address)." % what)
    real_server = dict(REAL_SERVER_DEFAULTS)
    real_server.update((key, value) for key, value in item.items() if value is not None)
    real_server["host"] = str(real_server["host"])
    if service["protocol"] == "fwmark":
        real_server["port"] = None if real_server["port"] is None else _port(real_server["port"], what + " port")
    else:
        real_server["port"] = service["port"] if real_server["port"] is None else _port(real_server["port"], what + " port")
    for key in ("weight", "upper_threshold", "lower_threshold"):
        if real_server[key] is not None:
            try:
                real_server[key] = int(real_server[key])
            except (TypeError, ValueError):
                raise TopologyError("%s %s %r is not an integer." % (what, key, real_server[key]))
            if real_server[key] < 0:
                raise TopologyError("%s %s %r is negative." % (what, key, real_server[key]))
    return real_server


def _positive_int(value, what):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise TopologyError("%s %r is not an integer." % (what, value))
    if number < 0:
        raise TopologyError("%s %r is negative." % (what, value))
    return number


def _normalize_keepalived(item, what):
    what += " keepalived"
    _check_keys(item, tuple(KEEPALIVED_DEFAULTS), what)
    options = dict(KEEPALIVED_DEFAULTS)
    options.update((key, value) for key, value in item.items() if value is not None)
    options["delay_loop"] = _positive_int(options["delay_loop"], what + " delay_loop")
    if options["quorum"] is not None:
        options["quorum"] = _positive_int(options["quorum"], what + " quorum")
    options["inhibit_on_failure"] = bool(options["inhibit_on_failure"])
    _check_keys(options["health_check"], tuple(HEALTH_CHECK_DEFAULTS), what + " health_check")
    check = dict(HEALTH_CHECK_DEFAULTS)
    check.update((key, value) for key, value in options["health_check"].items() if value is not None)
    if check["type"] not in HEALTH_CHECK_TYPES:
        raise TopologyError("%s health_check type %r is not one of %s." % (what, check["type"], ", ".join(HEALTH_CHECK_TYPES)))
    if check["type"] == "misc" and not check["script"]:
        raise TopologyError("%s health_check of type misc needs a script." % what)
    for key in ("status", "connect_timeout", "retry", "delay_before_retry"):
        check[key] = _positive_int(check[key], "%s health_check %s" % (what, key))
    options["health_check"] = check
    if options["sorry_server"] is not None:
        _check_keys(options["sorry_server"], ("host", "port"), what + " sorry_server")
        if not options["sorry_server"].get("host"):
            raise TopologyError("%s sorry_server has no host (an inventory name or an address)." % what)
    return options


def _normalize_service(item, index):
    what = "Service %d of lvs_virtual_services" % (index + 1)
    _check_keys(item, SERVICE_REQUIRED + tuple(SERVICE_DEFAULTS), what)
    for key in SERVICE_REQUIRED:
        if item.get(key) is None:
            raise TopologyError("%s has no %s." % (what, key))
    service = dict(SERVICE_DEFAULTS)
    service.update((key, value) for key, value in item.items() if value is not None)
    service["name"] = str(service["name"])
    what = "Service %s" % service["name"]
    service["vip"] = str(_ip(service["vip"], what + " vip"))
    if service["protocol"] not in PROTOCOLS:
        raise TopologyError("%s protocol %r is not one of %s." % (what, service["protocol"], ", ".join(PROTOCOLS)))
    if service["forwarding_method"] not in FORWARDING_METHODS:
        raise TopologyError("%s forwarding_method %r is not one of %s." % (what, service["forwarding_method"], ", ".join(FORWARDING_METHODS)))
    if service["protocol"] == "fwmark":
        if service["fwmark"] is None:
            raise TopologyError("%s uses protocol fwmark but sets no fwmark." % what)
        service["fwmark"] = int(service["fwmark"])
        service["port"] = None if service["port"] is None else _port(service["port"], what + " port")
    else:
        if service["port"] is None:
            raise TopologyError("%s has no port (only fwmark services may omit it)." % what)
        service["port"] = _port(service["port"], what + " port")
    if isinstance(service["flags"], str):
        service["flags"] = [flag for flag in service["flags"].split(",") if flag]
    if service["persistence"] is not None:
        _check_keys(service["persistence"], PERSISTENCE_KEYS, what + " persistence")
    if service["keepalived"] is not None:
        service["keepalived"] = _normalize_keepalived(service["keepalived"], what)
    if not isinstance(service["real_servers"], list):
        raise TopologyError("%s real_servers must be a list." % what)
    service["real_servers"] = [_normalize_real_server(rs, service, i) for i, rs in enumerate(service["real_servers"])]
    return service


def normalize_services(services):
    """Return a copy of lvs_virtual_services with every default filled in."""
    require_netaddr()
    if services is None:
        return []
    if not isinstance(services, list):
        raise TopologyError("lvs_virtual_services must be a list of services, got %r." % type(services).__name__)
    return [_normalize_service(item, index) for index, item in enumerate(services)]


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
    """The normalised services plus what the gathered facts say about every host."""

    def __init__(self, services, hostvars, directors):
        self.services = normalize_services(services)
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

    def resolve(self, service, real_server):
        """The RIP of a real server entry (netaddr.IPAddress); raise TopologyError when unknown."""
        host = real_server["host"]
        family = netaddr.IPAddress(service["vip"]).version
        if _is_ip(host):
            return netaddr.IPAddress(host)
        if host not in self.hostvars:
            raise TopologyError("Service %s names real server %r, which is neither an address nor an inventory host." % (service["name"], host))
        networks = self.networks(host)
        if networks is None:
            raise TopologyError("Service %s names real server %s, whose facts were not gathered: gather facts on it first (site.yml does)."
                                % (service["name"], host))
        candidates = [net.ip for nic, net in networks if net.ip.version == family]
        if not candidates:
            raise TopologyError("Real server %s of service %s has no IPv%d address." % (host, service["name"], family))
        # A director-segment address first: DR and NAT need it, FULLNAT prefers it.
        for address in candidates:
            if self.on_director_segment(address):
                return address
        facts = _facts(self.hostvars, host)
        default = (facts.get("default_ipv4" if family == 4 else "default_ipv6") or {}).get("address")
        if default and netaddr.IPAddress(default) in candidates:
            return netaddr.IPAddress(default)
        return candidates[0]

    def host_matches(self, real_server, inventory_hostname, addresses):
        """True when a real server entry designates this host (by name or by one of its addresses)."""
        host = real_server["host"]
        if host == inventory_hostname:
            return True
        if not _is_ip(host):
            return False
        wanted = netaddr.IPAddress(host)
        return any(_is_ip(a) and netaddr.IPAddress(a) == wanted for a in addresses or [])

    def nat_gateway(self, address):
        """The DIP a NAT real server with this address routes through (first director on-link)."""
        for director in self.directors:
            dip = self.director_address_on(director, address)
            if dip is not None:
                return dip
        return None


def _service_key(service):
    if service["protocol"] == "fwmark":
        return ("fwmark", service["fwmark"], netaddr.IPAddress(service["vip"]).version)
    return (service["protocol"], netaddr.IPAddress(service["vip"]), service["port"])


def _describe_key(key):
    if key[0] == "fwmark":
        return "fwmark %s (IPv%d)" % (key[1], key[2])
    return "%s %s port %s" % (key[0], key[1], key[2])


def topology_problems(services, hostvars, directors):
    """Every problem of the model, one sentence each; an empty list means it can be deployed."""
    try:
        topology = Topology(services, hostvars, directors)
    except TopologyError as error:
        return [str(error)]
    problems = []
    seen_names, seen_keys = {}, {}
    for service in topology.services:
        name = service["name"]
        if name in seen_names:
            problems.append("Service name %s is used twice." % name)
        seen_names[name] = True
        key = _service_key(service)
        if key in seen_keys:
            problems.append("Services %s and %s both claim %s." % (seen_keys[key], name, _describe_key(key)))
        else:
            seen_keys[key] = name
    for director in topology.directors:
        if director not in topology.hostvars:
            problems.append("Director %s is not an inventory host." % director)
        elif topology.networks(director) is None:
            problems.append("Director %s has no gathered facts: gather facts on it first (site.yml does)." % director)
    for service in topology.services:
        problems.extend(_service_problems(topology, service))
    return problems


def _service_problems(topology, service):
    problems = []
    name, method = service["name"], service["forwarding_method"]
    vip = netaddr.IPAddress(service["vip"])
    for real_server in service["real_servers"]:
        try:
            rip = topology.resolve(service, real_server)
        except TopologyError as error:
            problems.append(str(error))
            continue
        label = real_server["host"] if real_server["host"] == str(rip) else "%s (%s)" % (real_server["host"], rip)
        if rip.version != vip.version:
            problems.append("Service %s mixes IPv%d VIP %s with IPv%d real server %s." % (name, vip.version, vip, rip.version, label))
        if rip in topology.vips:
            problems.append("Real server %s of service %s uses a VIP as its RIP." % (label, name))
        remapped = real_server["port"] is not None and service["port"] is not None and real_server["port"] != service["port"]
        if method in ("dr", "tun") and remapped:
            problems.append("Service %s forwards port %s to %s port %s, but %s cannot remap ports (only nat and fullnat can)."
                            % (name, service["port"], label, real_server["port"], method.upper()))
        if method in ("dr", "nat") and topology.directors and not topology.on_director_segment(rip):
            need = "on a director's L2 segment" if method == "dr" else "on a director segment so its default gateway can be the DIP"
            problems.append("Real server %s of %s service %s must be %s; no director has an address in its subnet." % (label, method.upper(), name, need))
        if method == "nat" and topology.on_director_segment(rip):
            problems.extend(_nat_gateway_problems(topology, service, real_server, rip, label))
    return problems


def _nat_gateway_problems(topology, service, real_server, rip, label):
    host = real_server["host"]
    wanted = (topology.hostvars.get(host) or {}).get("real_server_nat_gateway")
    if wanted is None:
        if len(topology.directors) > 1:
            return ["Real server %s of NAT service %s has %d directors to choose from: set real_server_nat_gateway to the DIP they share."
                    % (label, service["name"], len(topology.directors))]
        return []
    gateway = _ip(wanted, "real_server_nat_gateway of %s" % host)
    segment = [net for nic, net in topology.networks(host) or [] if net.ip == rip]
    if segment and gateway not in segment[0]:
        return ["Real server %s of NAT service %s has real_server_nat_gateway %s outside its subnet %s." % (label, service["name"], gateway, segment[0].cidr)]
    return []


def ipvs_config(services, hostvars, directors):
    """lvs_virtual_services as the `config` list of lvs.topology.ipvs_table."""
    topology = Topology(services, hostvars, directors)
    config = []
    for service in topology.services:
        entry = {"protocol": service["protocol"], "scheduler": service["scheduler"]}
        if service["protocol"] == "fwmark":
            entry["fwmark"] = service["fwmark"]
            entry["family"] = "ipv%d" % netaddr.IPAddress(service["vip"]).version
        else:
            entry["address"] = service["vip"]
            entry["port"] = service["port"]
        if service["flags"]:
            entry["scheduler_flags"] = list(service["flags"])
        for key in PERSISTENCE_KEYS:
            if (service["persistence"] or {}).get(key) is not None:
                entry["persistence_" + key] = service["persistence"][key]
        entry["real_servers"] = []
        for real_server in service["real_servers"]:
            item = {
                "address": str(topology.resolve(service, real_server)),
                "forwarding_method": IPVS_FORWARDING[service["forwarding_method"]],
                "weight": real_server["weight"],
            }
            for key in ("port", "upper_threshold", "lower_threshold"):
                if real_server[key] is not None:
                    item[key] = real_server[key]
            entry["real_servers"].append(item)
        config.append(entry)
    return config


def keepalived_virtual_servers(services, hostvars, directors):
    """lvs_virtual_services as keepalived virtual_server blocks: the ipvs_table config of each
    service plus lb_kind, the health check, sorry server, quorum and inhibit_on_failure."""
    topology = Topology(services, hostvars, directors)
    blocks = []
    for service, entry in zip(topology.services, ipvs_config(services, hostvars, directors)):
        options = service["keepalived"] or _normalize_keepalived({}, "Service %s" % service["name"])
        block = dict(entry, name=service["name"], lb_kind=KEEPALIVED_LB_KIND[service["forwarding_method"]])
        block.update((key, value) for key, value in options.items() if key != "sorry_server")
        block["sorry_server"] = None
        if options["sorry_server"]:
            sorry = options["sorry_server"]
            port = sorry.get("port", service["port"])
            block["sorry_server"] = {
                "address": str(topology.resolve(service, {"host": str(sorry["host"])})),
                "port": None if port is None else _port(port, "Service %s sorry_server port" % service["name"]),
            }
        blocks.append(block)
    return blocks


def real_server_entries(services, hostvars, directors, host):
    """Every (virtual service, real server) pair that names host, in the shape of the
    lvs.topology.ipvs_real_server options, with the weight the model gives it."""
    topology = Topology(services, hostvars, directors)
    addresses = [str(net.ip) for nic, net in topology.networks(host) or []]
    entries = []
    for service, entry in zip(topology.services, ipvs_config(services, hostvars, directors)):
        identity = dict((key, entry[key]) for key in ("protocol", "address", "port", "fwmark", "family") if key in entry)
        for real_server, resolved in zip(service["real_servers"], entry["real_servers"]):
            # An address designates the real server whose RIP it is, however the model names it.
            if topology.host_matches(real_server, host, addresses) or (_is_ip(host) and _ip(host, "host") == _ip(resolved["address"], "RIP")):
                entries.append(dict(resolved, service=service["name"], virtual_service=identity))
    return entries


def real_server_vips(services, inventory_hostname, addresses, forwarding_methods):
    """The sorted VIPs this host serves with one of the given forwarding methods."""
    topology = Topology(services, {}, [])
    vips = set()
    for service in topology.services:
        if service["forwarding_method"] not in forwarding_methods:
            continue
        if any(topology.host_matches(rs, inventory_hostname, addresses) for rs in service["real_servers"]):
            vips.add(netaddr.IPAddress(service["vip"]))
    return [str(vip) for vip in sorted(vips)]


def nat_gateway(services, hostvars, directors, inventory_hostname, addresses):
    """The DIP a NAT real server must use as its default gateway (None when it serves no NAT service)."""
    topology = Topology(services, hostvars, directors)
    for service in topology.services:
        if service["forwarding_method"] != "nat":
            continue
        for real_server in service["real_servers"]:
            if topology.host_matches(real_server, inventory_hostname, addresses):
                gateway = topology.nat_gateway(topology.resolve(service, real_server))
                if gateway is None:
                    raise TopologyError("No director has an address in the subnet of NAT real server %s: set real_server_nat_gateway." % inventory_hostname)
                return str(gateway)
    return None


def director_vips(services, facts, interface=None):
    """[{address, prefix, interface, label}] of the VIPs a director carries.

    Each VIP goes on the interface whose subnet holds it (the client-facing one), else on
    the given interface, else on the interface of the default route; IPv4 VIPs get an
    eth0:N label as in the seeds (IPv6 addresses have no labels).
    """
    topology = Topology(services, {}, [])
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

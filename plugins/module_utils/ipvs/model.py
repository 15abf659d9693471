# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model of the kernel's IPVS table: services, real servers, the operations on them.

Private to the collection: this API may change without notice.

A table is an OrderedDict VirtualService -> ServiceEntry (settings and real servers keyed by
(address, port), in table order); an Operation is one ipvsadm command on it, and a
DesiredService what one service should become. Here too: the two errors every part raises,
the address helpers, and the config shape of a table (what gathered returns and what
ipvs_table takes). Pure Python over the standard library: no command is run in this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
from collections import OrderedDict, namedtuple

# The switch that names a service of each protocol (see VirtualService.words); the save
# format's other switches are in saveformat.py.
SERVICE_SWITCH = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}


class IpvsInputError(ValueError):
    """A value that cannot describe an IPVS rule; the message is one sentence for the user."""


class IpvsParseError(ValueError):
    """ipvsadm printed something this parser does not know; never guessed around."""


class VirtualService(namedtuple("VirtualService", "protocol family address port fwmark")):
    """The identity of a virtual service: what ipvsadm's -t/-u/--sctp-service/-f select."""

    __slots__ = ()

    def words(self):
        """The ipvsadm words that name this service."""
        if self.protocol == "fwmark":
            return ["-f", str(self.fwmark), "-6"] if self.family == "ipv6" else ["-f", str(self.fwmark)]
        return [SERVICE_SWITCH[self.protocol], join_address_port(self.address, self.port)]

    def label(self):
        """A short human name, used in messages."""
        if self.protocol == "fwmark":
            return "fwmark %d (%s)" % (self.fwmark, self.family)
        return "%s %s" % (self.protocol, join_address_port(self.address, self.port))

    def default_real_server_port(self):
        """ipvsadm copies the service port to a real server given without one."""
        return 0 if self.protocol == "fwmark" else self.port


ServiceSettings = namedtuple(
    "ServiceSettings",
    "scheduler scheduler_flags persistence_timeout persistence_netmask persistence_engine one_packet")

RealServer = namedtuple(
    "RealServer",
    "address port forwarding_method weight upper_threshold lower_threshold tunnel_type tunnel_port tunnel_checksum")


def real_server_key(real_server):
    """Real servers of one service are unique by address and port, as in the kernel."""
    return (real_server.address, real_server.port)


class ServiceEntry(object):
    """A service's settings and its real servers keyed by (address, port), in table order."""

    __slots__ = ("settings", "real_servers")

    def __init__(self, settings, real_servers=None):
        self.settings = settings
        self.real_servers = real_servers if real_servers is not None else OrderedDict()

    def copy(self):
        return ServiceEntry(self.settings, OrderedDict(self.real_servers))


Operation = namedtuple("Operation", "command service settings real_server")
# command is one of ipvsadm's -A -E -D (services) and -a -e -d (real servers).


class DesiredService(object):
    """What one service should become.

    settings None leaves an existing service's settings alone (a real-server-only change);
    real_servers maps (address, port) -> RealServer to be present; absent_real_servers lists
    keys to remove; purge_real_servers removes every real server not in real_servers.
    """

    __slots__ = ("service", "settings", "real_servers", "absent_real_servers", "purge_real_servers")

    def __init__(self, service, settings=None, real_servers=None, absent_real_servers=(), purge_real_servers=False):
        self.service = service
        self.settings = settings
        self.real_servers = real_servers if real_servers is not None else OrderedDict()
        self.absent_real_servers = absent_real_servers
        self.purge_real_servers = purge_real_servers


# ---------------------------------------------------------------------------
# Numbers, as the options and the variables of the roles give them.
# ---------------------------------------------------------------------------

def checked_int(value, what, minimum, maximum):
    """Return value as an int within [minimum, maximum] or raise one sentence."""
    if isinstance(value, bool):
        raise IpvsInputError("%s must be an integer from %d to %d, got %r." % (what, minimum, maximum, value))
    # An int in range is the common case (every port and weight of a big table): no parsing.
    if isinstance(value, int) and minimum <= value <= maximum:
        return int(value)
    try:
        number = int(str(value).strip(), 10)
    except (TypeError, ValueError):
        raise IpvsInputError("%s must be an integer from %d to %d, got %r." % (what, minimum, maximum, value))
    if not minimum <= number <= maximum:
        raise IpvsInputError("%s must be from %d to %d, got %d." % (what, minimum, maximum, number))
    return number


# ---------------------------------------------------------------------------
# Addresses: IPv4 and IPv6, as ipvsadm takes and prints them.
# ---------------------------------------------------------------------------

def normalise_address(value, what="address"):
    """Return (compressed address, family) or raise; addresses can never be read as options."""
    text = str(value).strip() if value is not None else ""
    known = _NORMALISED_ADDRESSES.get(text)
    if known is not None:
        return known
    if "%" in text or "/" in text:
        raise IpvsInputError("%s %r is not a plain IPv4 or IPv6 address (no prefix length or zone index)." % (what, value))
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise IpvsInputError("%s %r is not a valid IPv4 or IPv6 address." % (what, value))
    # Big tables repeat the same few addresses thousands of times; ipaddress is slow-ish.
    known = _NORMALISED_ADDRESSES[text] = (address.compressed, "ipv%d" % address.version)
    return known


_NORMALISED_ADDRESSES = {}


def address_family(address):
    return "ipv6" if ":" in address else "ipv4"


def join_address_port(address, port):
    if ":" in address:
        return "[%s]:%d" % (address, port)
    return "%s:%d" % (address, port)


def split_address_port(text):
    """'192.0.2.1:80' or '[2001:db8::1]:80' from ipvsadm -> (address, port)."""
    if text.startswith("["):
        address, separator, port = text[1:].partition("]:")
    else:
        address, separator, port = text.rpartition(":")
    if not separator or not port.isdigit():
        raise IpvsParseError("cannot read address:port %r" % text)
    try:
        normalised, dummy = normalise_address(address)
    except IpvsInputError:
        raise IpvsParseError("cannot read address %r" % text)
    return normalised, int(port)


# ---------------------------------------------------------------------------
# The config shape: what gathered returns and what ipvs_table takes.
# ---------------------------------------------------------------------------

def service_identity_config(service):
    if service.protocol == "fwmark":
        return OrderedDict([("protocol", "fwmark"), ("fwmark", service.fwmark), ("family", service.family)])
    return OrderedDict([("protocol", service.protocol), ("address", service.address), ("port", service.port)])


def real_server_config(real_server):
    config = OrderedDict([
        ("address", real_server.address), ("port", real_server.port),
        ("forwarding_method", real_server.forwarding_method), ("weight", real_server.weight),
        ("upper_threshold", real_server.upper_threshold), ("lower_threshold", real_server.lower_threshold),
    ])
    if real_server.forwarding_method == "tun":
        config["tunnel_type"] = real_server.tunnel_type
        if real_server.tunnel_type == "gue":
            config["tunnel_port"] = real_server.tunnel_port
        if real_server.tunnel_type in ("gue", "gre"):
            config["tunnel_checksum"] = real_server.tunnel_checksum
    return config


def service_config(service, entry):
    config = service_identity_config(service)
    settings = entry.settings
    config["scheduler"] = settings.scheduler
    config["scheduler_flags"] = list(settings.scheduler_flags)
    config["persistence_timeout"] = settings.persistence_timeout
    if settings.persistence_timeout and settings.persistence_netmask is not None:
        config["persistence_netmask"] = str(settings.persistence_netmask)
    if settings.persistence_engine:
        config["persistence_engine"] = settings.persistence_engine
    config["one_packet"] = settings.one_packet
    config["real_servers"] = [real_server_config(real_server) for real_server in entry.real_servers.values()]
    return config


def table_config(table):
    return [service_config(service, entry) for service, entry in table.items()]

# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The values an IPVS rule may take, their defaults, and the parameters that build the model from them.

Private to the collection: this API may change without notice.

The schedulers, flags, protocols, methods and ranges ipvsadm and the kernel accept, the checks
of a number and a persistence netmask, and the argument specs of the IPVS modules with the
builders that turn parameters into the model. The service identity, service settings and
real-server options are declared once here and reused by every module, at the top level
(ipvs_service, ipvs_real_server) and inside lists and dicts (real_servers, virtual_service,
ipvs_table's config), where each item is checked against the same spec by _validated so an
error names the item it is in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
from collections import OrderedDict

from ansible.module_utils.common.validation import (
    check_type_bool, check_type_dict, check_type_int, check_type_list, check_type_str,
)

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import (
    DesiredService, IpvsInputError, RealServer, ServiceSettings, VirtualService, address_family, normalise_address,
)

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos")
DEFAULT_SCHEDULER = "wlc"
# Only sh and mh take flags; the order is the one ipvsadm prints them in.
SCHEDULER_FLAGS = {
    "sh": ("sh-fallback", "sh-port"),
    "mh": ("mh-fallback", "mh-port"),
}
ALL_SCHEDULER_FLAGS = ("sh-fallback", "sh-port", "mh-fallback", "mh-port")
PROTOCOLS = ("tcp", "udp", "sctp", "fwmark")
FAMILIES = ("ipv4", "ipv6")
PERSISTENCE_ENGINES = ("sip",)
FORWARDING_METHODS = ("dr", "nat", "tun")
TUNNEL_TYPES = ("ipip", "gue", "gre")
TUNNEL_CHECKSUMS = ("nocsum", "csum", "remcsum")

MAX_PORT = 65535
MAX_FWMARK = 4294967295
MAX_WEIGHT = 65535
MAX_THRESHOLD = 2147483647
# ipvsadm refuses persistence timeouts above 31 days.
MAX_PERSISTENCE_TIMEOUT = 86400 * 31
# The persistence granularity the kernel uses when none is given (one client address).
FULL_IPV4_NETMASK = "255.255.255.255"
FULL_IPV6_PREFIX = 128

DEFAULT_SERVICE_SETTINGS = ServiceSettings(DEFAULT_SCHEDULER, (), 0, None, None, False)


def checked_int(value, what, minimum, maximum):
    """Return value as an int within [minimum, maximum] or raise one sentence."""
    if isinstance(value, bool):
        raise IpvsInputError("%s must be an integer from %d to %d, got %r." % (what, minimum, maximum, value))
    try:
        number = int(str(value).strip(), 10)
    except (TypeError, ValueError):
        raise IpvsInputError("%s must be an integer from %d to %d, got %r." % (what, minimum, maximum, value))
    if not minimum <= number <= maximum:
        raise IpvsInputError("%s must be from %d to %d, got %d." % (what, minimum, maximum, number))
    return number


def normalise_netmask(value, family):
    """Persistence granularity: a dotted IPv4 mask (or prefix length) / an IPv6 prefix length.

    Returns None for the kernel's default (one client address), so defaults compare equal.
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    if family == "ipv6":
        prefix = checked_int(text, "persistence_netmask for an IPv6 service (a prefix length)", 1, 128)
        return None if prefix == FULL_IPV6_PREFIX else prefix
    if text.isdigit():
        prefix = checked_int(text, "persistence_netmask prefix length", 0, 32)
        mask = str(ipaddress.IPv4Network(u"0.0.0.0/%d" % prefix).netmask)
    else:
        try:
            mask = str(ipaddress.IPv4Address(u"%s" % text))
        except ValueError:
            raise IpvsInputError("persistence_netmask %r is not an IPv4 netmask such as 255.255.255.0." % (value,))
    return None if mask == FULL_IPV4_NETMASK else mask


SERVICE_IDENTITY_SPEC = dict(
    protocol=dict(type="str", default="tcp", choices=list(PROTOCOLS)),
    address=dict(type="str"),
    port=dict(type="int"),
    fwmark=dict(type="int"),
    family=dict(type="str", choices=list(FAMILIES)),
)
SERVICE_IDENTITY_RULES = dict(
    required_if=[
        ("protocol", "tcp", ("address", "port")),
        ("protocol", "udp", ("address", "port")),
        ("protocol", "sctp", ("address", "port")),
        ("protocol", "fwmark", ("fwmark",)),
    ],
)

# No defaults here: unset means "the ipvsadm default" for ipvs_service and "keep the live
# value" for ipvs_table's merged state; the builders below decide which.
SERVICE_SETTINGS_SPEC = dict(
    scheduler=dict(type="str", choices=list(SCHEDULERS)),
    scheduler_flags=dict(type="list", elements="str", choices=list(ALL_SCHEDULER_FLAGS)),
    persistence_timeout=dict(type="int"),
    persistence_netmask=dict(type="str"),
    persistence_engine=dict(type="str", choices=list(PERSISTENCE_ENGINES)),
    one_packet=dict(type="bool"),
)

REAL_SERVER_SPEC = dict(
    address=dict(type="str", required=True),
    port=dict(type="int"),
    forwarding_method=dict(type="str", choices=list(FORWARDING_METHODS)),
    weight=dict(type="int"),
    upper_threshold=dict(type="int"),
    lower_threshold=dict(type="int"),
    tunnel_type=dict(type="str", choices=list(TUNNEL_TYPES)),
    tunnel_port=dict(type="int"),
    tunnel_checksum=dict(type="str", choices=list(TUNNEL_CHECKSUMS)),
)
REAL_SERVER_ITEM_SPEC = dict(REAL_SERVER_SPEC, state=dict(type="str", default="present", choices=["present", "absent", "drained"]))

POOL_SPEC = dict(
    real_servers=dict(type="list", elements="dict"),
    purge_real_servers=dict(type="bool"),
)
SERVICE_ITEM_SPEC = dict(SERVICE_IDENTITY_SPEC, **dict(SERVICE_SETTINGS_SPEC, **POOL_SPEC))


def service_module_spec():
    """ipvs_service: identity + settings + state + the optional pool."""
    spec = dict(SERVICE_ITEM_SPEC, state=dict(type="str", default="present", choices=["present", "absent"]))
    return spec, dict(SERVICE_IDENTITY_RULES)


def real_server_module_spec():
    spec = dict(
        REAL_SERVER_SPEC,
        virtual_service=dict(type="dict", required=True),
        state=dict(type="str", default="present", choices=["present", "absent", "drained"]),
        drain_timeout=dict(type="int", default=0),
    )
    return spec, {}


def in_item(where, error):
    """The error of one list item, prefixed with its position unless it already names it."""
    message = str(error)
    return IpvsInputError(message if message.startswith(where) else "%s: %s" % (where, message))


TYPE_CHECKS = {"str": check_type_str, "int": check_type_int, "bool": check_type_bool, "list": check_type_list, "dict": check_type_dict}
# A value already of its option's type is what its checker would return (each starts with
# that isinstance test); it is the common case, tens of thousands of times in one ipvs_table
# call, so it skips the checker's call.
NATIVE_TYPES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict}
_PREPARED_SPECS = {}


def _prepared(spec):
    """(defaults, required option names, option names) of a spec, worked out once per spec."""
    prepared = _PREPARED_SPECS.get(id(spec))
    if prepared is None:
        defaults = dict((name, option.get("default")) for name, option in spec.items())
        required = [name for name, option in spec.items() if option.get("required")]
        prepared = _PREPARED_SPECS[id(spec)] = (defaults, required, frozenset(spec))
    return prepared


def _typed(kind, value):
    return value if isinstance(value, NATIVE_TYPES[kind]) else TYPE_CHECKS[kind](value)


def _validated(spec, params, where, rules=None):
    """Check one nested item against a spec; raise one sentence naming the item.

    The same rules as AnsibleModule's (types, choices, required, required_if), written out
    because ArgumentSpecValidator costs about a millisecond per item and ipvs_table checks
    tens of thousands of items in one call.
    """
    if not isinstance(params, dict):
        raise IpvsInputError("%s must be a dictionary, got %r." % (where, params))
    defaults, required, names = _prepared(spec)
    if not names.issuperset(params):
        unknown = sorted(set(params) - names)
        raise IpvsInputError("%s has unknown option(s) %s; it takes %s." % (where, ", ".join(unknown), ", ".join(sorted(spec))))
    result = dict(defaults)
    for name in required:
        if params.get(name) is None:
            raise IpvsInputError("%s: missing required option %s." % (where, name))
    for name, value in params.items():
        if value is None:
            continue
        option = spec[name]
        try:
            value = _typed(option["type"], value)
            if option.get("elements"):
                value = [_typed(option["elements"], element) for element in value]
        except (TypeError, ValueError) as error:
            raise IpvsInputError("%s: option %s must be of type %s (%s)." % (where, name, option.get("elements") or option["type"], error))
        choices = option.get("choices")
        if choices and any(element not in choices for element in (value if isinstance(value, list) else [value])):
            raise IpvsInputError("%s: value of %s must be one of: %s, got: %s." % (where, name, ", ".join(choices), value))
        result[name] = value
    for name, value, needed in (rules or {}).get("required_if", ()):
        missing = [option for option in needed if result.get(option) is None]
        if result.get(name) == value and missing:
            raise IpvsInputError("%s: %s is %s but all of the following are missing: %s." % (where, name, value, ", ".join(missing)))
    return result


def validated_service_item(params, where):
    return _validated(SERVICE_ITEM_SPEC, params, where, SERVICE_IDENTITY_RULES)


def validated_identity(params, where):
    return _validated(SERVICE_IDENTITY_SPEC, params, where, SERVICE_IDENTITY_RULES)


def virtual_service_from_params(params):
    """Build the service identity; raise IpvsInputError with one sentence when it is wrong."""
    protocol = params.get("protocol") or "tcp"
    family = params.get("family")
    if protocol == "fwmark":
        if params.get("address") is not None or params.get("port") is not None:
            raise IpvsInputError("address and port do not apply to a fwmark service; give fwmark (and family) only.")
        mark = checked_int(params.get("fwmark"), "fwmark", 1, MAX_FWMARK)
        return VirtualService("fwmark", family or "ipv4", None, None, mark)
    if params.get("fwmark") is not None:
        raise IpvsInputError("fwmark applies only with protocol fwmark, not with protocol %s." % protocol)
    address, address_family_found = normalise_address(params.get("address"), "Virtual service address")
    if family is not None and family != address_family_found:
        raise IpvsInputError("family %s does not match the %s address %s." % (family, address_family_found, address))
    port = checked_int(params.get("port"), "Virtual service port", 0, MAX_PORT)
    return VirtualService(protocol, address_family_found, address, port, None)


def _pick(params, name, base, default):
    value = params.get(name)
    if value is not None:
        return value
    return getattr(base, name) if base is not None else default


def service_settings_from_params(service, params, base=None):
    """Settings of a service; unset options take base's value (merged) or ipvsadm's default."""
    scheduler = _pick(params, "scheduler", base, DEFAULT_SCHEDULER)
    if scheduler not in SCHEDULERS:
        raise IpvsInputError("scheduler %r is unknown; use one of %s." % (scheduler, ", ".join(SCHEDULERS)))
    if params.get("scheduler_flags") is not None:
        flags = params["scheduler_flags"]
    elif base is not None and base.scheduler == scheduler:
        flags = base.scheduler_flags
    else:
        flags = ()
    allowed = SCHEDULER_FLAGS.get(scheduler, ())
    for flag in flags:
        if flag not in allowed:
            raise IpvsInputError("scheduler flag %s does not belong to scheduler %s (%s)." % (
                flag, scheduler, "it takes " + ", ".join(allowed) if allowed else "it takes no flags"))
    if len(set(flags)) != len(flags):
        raise IpvsInputError("scheduler_flags lists a flag twice: %s." % ", ".join(flags))
    flags = tuple(flag for flag in allowed if flag in flags)

    timeout = checked_int(_pick(params, "persistence_timeout", base, 0), "persistence_timeout", 0, MAX_PERSISTENCE_TIMEOUT)
    netmask, engine = None, None
    if params.get("persistence_netmask") not in (None, ""):
        if not timeout:
            raise IpvsInputError("persistence_netmask needs persistence: set persistence_timeout above 0.")
        netmask = normalise_netmask(params["persistence_netmask"], service.family)
    elif timeout and base is not None:
        netmask = base.persistence_netmask
    if params.get("persistence_engine") is not None:
        if not timeout:
            raise IpvsInputError("persistence_engine needs persistence: set persistence_timeout above 0.")
        engine = params["persistence_engine"]
    elif timeout and base is not None:
        engine = base.persistence_engine

    one_packet = bool(_pick(params, "one_packet", base, False))
    if one_packet and service.protocol not in ("udp", "fwmark"):
        raise IpvsInputError("one_packet scheduling applies only to udp and fwmark services, not to %s." % service.label())
    if service.protocol != "fwmark" and service.port == 0 and not timeout:
        raise IpvsInputError("port 0 (all ports) needs persistence: set persistence_timeout above 0 for %s." % service.label())
    return ServiceSettings(scheduler, flags, timeout, netmask, engine, one_packet)


def real_server_from_params(service, params, base=None, weight_override=None):
    """One real server of service; unset options take base's value (merged) or the ipvsadm default."""
    address = _real_server_address(params.get("address"), "Real server address")
    port = _real_server_port(service, params.get("port"), "real server %s port" % address)
    return _placed(service, port, _real_server_options(params, base, weight_override))


def _real_server_address(value, what):
    return normalise_address(value, what)[0]


def _real_server_port(service, value, what):
    """The real server's port: the service's when unset (as ipvsadm does)."""
    return service.default_real_server_port() if value is None else checked_int(value, what, 0, MAX_PORT)


def _placed(service, port, options):
    """options (a real server without its port) as a real server of service on port.

    Only these checks depend on the service; the rest of a real server's options are
    checked once per distinct item (see pool_from_params).
    """
    what = "real server %s" % options.address
    family = address_family(options.address)
    method = options.forwarding_method
    if family != service.family and method != "tun":
        raise IpvsInputError("%s is %s but %s is %s: the kernel mixes address families only with forwarding_method tun." % (
            what, family, service.label(), service.family))
    if method in ("dr", "tun") and port != service.default_real_server_port():
        raise IpvsInputError("%s port %d differs from the service port %d, but with forwarding_method %s the kernel cannot remap ports "
                             "(only nat can): drop port or use nat." % (what, port, service.default_real_server_port(), method))
    return RealServer(options.address, port, *options[2:])


def _real_server_options(params, base, weight_override):
    """A real server's options but its port (None here), checked; unset ones from base or ipvsadm's defaults."""
    address = _real_server_address(params.get("address"), "Real server address")
    what = "real server %s" % address
    method = _pick(params, "forwarding_method", base, "dr")
    if method not in FORWARDING_METHODS:
        raise IpvsInputError("forwarding_method %r is unknown; use dr, nat or tun." % (method,))
    weight = weight_override if weight_override is not None else _pick(params, "weight", base, 1)
    weight = checked_int(weight, what + " weight", 0, MAX_WEIGHT)
    upper = checked_int(_pick(params, "upper_threshold", base, 0), what + " upper_threshold", 0, MAX_THRESHOLD)
    lower = checked_int(_pick(params, "lower_threshold", base, 0), what + " lower_threshold", 0, MAX_THRESHOLD)
    if lower > upper:
        raise IpvsInputError("%s lower_threshold %d is above its upper_threshold %d (0 = none); the kernel refuses that." % (what, lower, upper))

    tunnel_given = [name for name in ("tunnel_type", "tunnel_port", "tunnel_checksum") if params.get(name) is not None]
    if method != "tun":
        if tunnel_given:
            raise IpvsInputError("%s sets %s, which apply only with forwarding_method tun." % (what, ", ".join(tunnel_given)))
        return RealServer(address, None, method, weight, upper, lower, None, None, None)
    inherit = base if base is not None and base.forwarding_method == "tun" else None
    tunnel_type = _pick(params, "tunnel_type", inherit, "ipip")
    tunnel_port, checksum = None, None
    if tunnel_type == "gue":
        tunnel_port = _pick(params, "tunnel_port", inherit if inherit and inherit.tunnel_type == "gue" else None, None)
        if tunnel_port is None:
            raise IpvsInputError("%s uses tunnel_type gue, which needs tunnel_port (the remote UDP port)." % what)
        tunnel_port = checked_int(tunnel_port, what + " tunnel_port", 1, MAX_PORT)
    elif params.get("tunnel_port") is not None:
        raise IpvsInputError("%s sets tunnel_port, which applies only to tunnel_type gue." % what)
    if tunnel_type in ("gue", "gre"):
        keep = inherit if inherit and inherit.tunnel_type in ("gue", "gre") else None
        checksum = _pick(params, "tunnel_checksum", keep, "nocsum")
        if checksum == "remcsum" and tunnel_type != "gue":
            raise IpvsInputError("%s: tunnel_checksum remcsum exists only for tunnel_type gue." % what)
    elif params.get("tunnel_checksum") is not None:
        raise IpvsInputError("%s sets tunnel_checksum, which applies only to tunnel_type gue or gre." % what)
    return RealServer(address, None, method, weight, upper, lower, tunnel_type, tunnel_port, checksum)


def _item_key_without_port(item):
    """A hashable key of a real-server item of plain values but its port, or None (the item is
    then checked on its own).

    The port is left out because the director role names it on every item, and it is checked
    per service anyway. Each value's type is part of the key, so 1 and True, equal in Python,
    are never taken for each other.
    """
    try:
        key = tuple((name, type(value), value) for name, value in item.items() if name != "port")
        hash(key)
    except (AttributeError, TypeError):
        return None
    return key


def pool_from_params(service, items, live_servers=None, where="real_servers", merge=False):
    """Build (present OrderedDict, absent keys) from a real_servers list; reject duplicates.

    A big table lists the same few real servers behind many services: an item is checked
    once per distinct content but its port (and per live base), and only its port and
    family are checked again for each service.
    """
    present, absent, seen = OrderedDict(), [], set()
    live_servers = live_servers or {}
    for position, item in enumerate(items or []):
        label = "%s[%d]" % (where, position)
        item_key = _item_key_without_port(item)
        params = _CHECKED_ITEMS.get(item_key) if item_key is not None else None
        if params is None:
            params = _validated(REAL_SERVER_ITEM_SPEC, item, label)
            if item_key is not None:
                _CHECKED_ITEMS[item_key] = params
        address = _real_server_address(params.get("address"), label + " address")
        # The item's own port: params may be another item's, equal but for the port.
        port = _real_server_port(service, item.get("port"), label + " port")
        key = (address, port)
        if key in seen:
            raise IpvsInputError("%s repeats real server %s port %d of %s; list each real server once." % (label, address, port, service.label()))
        seen.add(key)
        state = params.get("state") or "present"
        if state == "absent":
            absent.append(key)
            continue
        # drained keeps the live settings and only sets weight 0; merged keeps unset ones too.
        base = live_servers.get(key) if (merge or state == "drained") else None
        weight_override = 0 if state == "drained" else None
        try:
            options_key = (item_key, base, weight_override)
            options = _BUILT_OPTIONS.get(options_key) if item_key is not None else None
            if options is None:
                options = _real_server_options(params, base, weight_override)
                if item_key is not None:
                    _BUILT_OPTIONS[options_key] = options
            real_server = _placed(service, port, options)
        except IpvsInputError as error:
            raise in_item(label, error)
        present[key] = real_server
    return present, absent


# Checked real-server items by _item_key_without_port, and their options by (item key, base, weight
# override), for the life of one module run.
_CHECKED_ITEMS = {}
_BUILT_OPTIONS = {}


def desired_service_from_params(params, have, where, merge=False, purge_default=None):
    """One DesiredService from a service's parameters (ipvs_service or an ipvs_table item).

    merge keeps the live value of every unset option; purge_default is what an unset
    purge_real_servers means (None: true exactly when real_servers is given).
    """
    service = virtual_service_from_params(params)
    entry = have.get(service)
    base = entry.settings if (merge and entry is not None) else None
    settings = service_settings_from_params(service, params, base)
    items = params.get("real_servers")
    purge = params.get("purge_real_servers")
    if purge is None:
        purge = items is not None if purge_default is None else purge_default
    present, absent = pool_from_params(service, items, entry.real_servers if entry else None,
                                       where + ".real_servers" if where else "real_servers", merge)
    return DesiredService(service, settings, present, absent, bool(purge))

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

These are also the rules of the collection's data model: the controller's validation
(plugin_utils/_topology.py) translates each service of lvs_virtual_services into the
ipvs_table item it becomes and runs the same builders on it, with a Findings that keeps every
sentence instead of raising the first, so it refuses what the module would refuse, in the
module's words, before any host changes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
from collections import OrderedDict

from ansible.module_utils.common.validation import (
    check_type_bool, check_type_dict, check_type_int, check_type_list, check_type_str,
)

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import (
    DesiredService, IpvsInputError, RealServer, ServiceSettings, VirtualService, address_family, checked_int, normalise_address,
)

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos")
# ipvsadm's defaults, which are also the data model's.
DEFAULT_SCHEDULER = "wlc"
DEFAULT_PROTOCOL = "tcp"
DEFAULT_FORWARDING_METHOD = "dr"
DEFAULT_WEIGHT = 1
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


def unknown_value(name, value, choices):
    """The sentence of a value that is not one of choices."""
    return "%s %r is unknown; use one of %s." % (name, value, ", ".join(choices))


def normalise_netmask(value, family):
    """Persistence granularity: a dotted IPv4 mask (or prefix length) / an IPv6 prefix length.

    Returns None for the kernel's default (one client address), so defaults compare equal.
    Reads any mask the kernel may hold; checked_netmask is the rule for a mask to set.
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


def checked_netmask(value, family):
    """normalise_netmask, refusing an IPv4 mask whose ones are not all leading: the clients it
    would group share no prefix, which is never what persistence granularity means."""
    mask = normalise_netmask(value, family)
    if family == "ipv4" and mask is not None:
        zeros = ~int(ipaddress.IPv4Address(u"%s" % mask)) & 0xFFFFFFFF
        if zeros & (zeros + 1):
            raise IpvsInputError("persistence_netmask %s is not contiguous; use leading ones only, such as 255.255.255.0." % mask)
    return mask


SERVICE_IDENTITY_SPEC = dict(
    protocol=dict(type="str", default=DEFAULT_PROTOCOL, choices=list(PROTOCOLS)),
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


def _located(where, message):
    return message if not where or message.startswith(where) else "%s: %s" % (where, message)


def in_item(where, error):
    """The error of one list item, prefixed with its position unless it already names it."""
    return IpvsInputError(_located(where, str(error)))


class Findings(object):
    """Every refused value of one item, for a caller that lists them all.

    Without a Findings the builders below raise the sentence of the first refused value, and a
    module runs nothing. Given one, they keep each sentence (prefixed with where, as in_item
    does) and go on with every check that does not need a refused value; the controller's
    validation lists every problem of a data model so, in the modules' own words. address_of,
    when set, reads a real server's address instead of normalise_address and may return None
    for an address its caller cannot tell yet (and reports itself).
    """

    def __init__(self, where, address_of=None, sentences=None):
        self.where = where
        self.address_of = address_of
        self.sentences = [] if sentences is None else sentences

    def add(self, sentence):
        sentence = _located(self.where, sentence)
        if sentence not in self.sentences:
            self.sentences.append(sentence)

    def within(self, where):
        """The findings of a part of the item (a real server), kept with the item's."""
        return Findings(where, self.address_of, self.sentences)


# What _validated keeps of a value it refused while collecting Findings, so the checks that
# need that value are skipped rather than run on a default the user never chose.
REFUSED = object()


def _refuse(findings, sentence):
    if findings is None:
        raise IpvsInputError(sentence)
    findings.add(sentence)


def _attempt(findings, check, *args):
    """check(*args); while collecting findings, None in place of what a refused value spoils."""
    if findings is None:
        return check(*args)
    try:
        return check(*args)
    except IpvsInputError as error:
        findings.add(str(error))
        return None


def _given(params, *names):
    """False when _validated refused one of these options (only while collecting findings)."""
    for name in names:
        if params.get(name) is REFUSED:
            return False
    return True


TYPE_CHECKS = {"str": check_type_str, "int": check_type_int, "bool": check_type_bool, "list": check_type_list, "dict": check_type_dict}
# A value already of its option's type is what its checker would return (each starts with
# that isinstance test); it is the common case, tens of thousands of times in one ipvs_table
# call, so it skips the checker's call.
NATIVE_TYPES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict}
_PREPARED_SPECS = {}


class _OptionCheck(object):
    """What _validated checks of one option, worked out once from its spec."""

    __slots__ = ("kind", "native", "check", "elements", "elements_native", "elements_check", "choices", "allowed")

    def __init__(self, option):
        self.kind = option["type"]
        self.native, self.check = NATIVE_TYPES[self.kind], TYPE_CHECKS[self.kind]
        self.elements = option.get("elements")
        if self.elements:
            self.elements_native, self.elements_check = NATIVE_TYPES[self.elements], TYPE_CHECKS[self.elements]
        self.choices = option.get("choices")
        self.allowed = frozenset(self.choices) if self.choices else None

    def typed(self, value):
        """The value as its type (and its elements as theirs); raise TypeError or ValueError."""
        if not isinstance(value, self.native):
            value = self.check(value)
        if self.elements:
            native, check = self.elements_native, self.elements_check
            value = [element if isinstance(element, native) else check(element) for element in value]
        return value

    def unknown(self, value):
        """The first of the value's choices (or its elements') that is not allowed, or None."""
        for element in (value if self.elements else (value,)):
            if element not in self.allowed:
                return element
        return None


def _prepared(spec):
    """(defaults, required option names, option names, _OptionCheck by option name) of a spec,
    worked out once per spec."""
    prepared = _PREPARED_SPECS.get(id(spec))
    if prepared is None:
        defaults = dict((name, option.get("default")) for name, option in spec.items())
        required = [name for name, option in spec.items() if option.get("required")]
        checks = dict((name, _OptionCheck(option)) for name, option in spec.items())
        prepared = _PREPARED_SPECS[id(spec)] = (defaults, required, frozenset(spec), checks)
    return prepared


def _validated(spec, params, where, rules=None, findings=None):
    """Check one nested item against a spec; raise one sentence naming the item.

    The same rules as AnsibleModule's (types, choices, required, required_if), written out
    because ArgumentSpecValidator costs about a millisecond per item and ipvs_table checks
    tens of thousands of items in one call. With findings, every problem is kept, a refused
    value becomes REFUSED, and None is returned for an item that is no dictionary at all.
    """
    if not isinstance(params, dict):
        _refuse(findings, "%s must be a dictionary, got %r." % (where, params))
        return None
    defaults, required, names, checks = _prepared(spec)
    if not names.issuperset(params):
        unknown = sorted(set(params) - names)
        _refuse(findings, "%s has unknown option(s) %s; it takes %s." % (where, ", ".join(unknown), ", ".join(sorted(spec))))
    result = dict(defaults)
    for name in required:
        if params.get(name) is None:
            _refuse(findings, "%s: missing required option %s." % (where, name))
            result[name] = REFUSED
    for name, value in params.items():
        check = checks.get(name)
        if value is None or check is None:
            continue
        try:
            value = check.typed(value)
        except (TypeError, ValueError) as error:
            _refuse(findings, "%s: option %s must be of type %s (%s)." % (where, name, check.elements or check.kind, error))
            result[name] = REFUSED
            continue
        if check.allowed is not None:
            unknown = check.unknown(value)
            if unknown is not None:
                _refuse(findings, "%s: %s" % (where, unknown_value(name, unknown, check.choices)))
                result[name] = REFUSED
                continue
        result[name] = value
    for name, value, needed in (rules or {}).get("required_if", ()):
        if result.get(name) != value:
            continue
        missing = [option for option in needed if result.get(option) is None]
        if missing:
            _refuse(findings, "%s: %s is %s but all of the following are missing: %s." % (where, name, value, ", ".join(missing)))
            result.update((option, REFUSED) for option in missing)
    return result


def validated_service_item(params, where, findings=None):
    return _validated(SERVICE_ITEM_SPEC, params, where, SERVICE_IDENTITY_RULES, findings)


def validated_identity(params, where):
    return _validated(SERVICE_IDENTITY_SPEC, params, where, SERVICE_IDENTITY_RULES)


def virtual_service_from_params(params):
    """Build the service identity; raise IpvsInputError with one sentence when it is wrong."""
    protocol = params.get("protocol") or DEFAULT_PROTOCOL
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


def service_settings_from_params(service, params, base=None, findings=None):
    """Settings of a service; unset options take base's value (merged) or ipvsadm's default.

    While collecting findings, service may be None (its identity was refused): the checks that
    need it are skipped, and None is returned when anything was refused.
    """
    scheduling = persistence = one_packet = None
    if _given(params, "scheduler", "scheduler_flags"):
        scheduling = _attempt(findings, _scheduling, params, base)
    if service is not None and _given(params, "persistence_timeout", "persistence_netmask", "persistence_engine"):
        persistence = _attempt(findings, _persistence, service, params, base)
    if persistence is not None and _given(params, "one_packet"):
        one_packet = _attempt(findings, _one_packet, service, params, base, persistence[0])
    if scheduling is None or persistence is None or one_packet is None:
        return None
    return ServiceSettings(scheduling[0], scheduling[1], persistence[0], persistence[1], persistence[2], one_packet)


def _scheduling(params, base):
    """(scheduler, flags in ipvsadm's order)."""
    scheduler = _pick(params, "scheduler", base, DEFAULT_SCHEDULER)
    if scheduler not in SCHEDULERS:
        raise IpvsInputError(unknown_value("scheduler", scheduler, SCHEDULERS))
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
    return scheduler, tuple(flag for flag in allowed if flag in flags)


def _persistence(service, params, base):
    """(timeout, netmask, engine)."""
    timeout = checked_int(_pick(params, "persistence_timeout", base, 0), "persistence_timeout", 0, MAX_PERSISTENCE_TIMEOUT)
    netmask, engine = None, None
    if params.get("persistence_netmask") not in (None, ""):
        if not timeout:
            raise IpvsInputError("persistence_netmask needs persistence: set persistence_timeout above 0.")
        netmask = checked_netmask(params["persistence_netmask"], service.family)
    elif timeout and base is not None:
        netmask = base.persistence_netmask
    if params.get("persistence_engine") is not None:
        if not timeout:
            raise IpvsInputError("persistence_engine needs persistence: set persistence_timeout above 0.")
        engine = params["persistence_engine"]
    elif timeout and base is not None:
        engine = base.persistence_engine
    return timeout, netmask, engine


def _one_packet(service, params, base, timeout):
    """one_packet, and the rules of the service's kind it goes with."""
    one_packet = bool(_pick(params, "one_packet", base, False))
    if one_packet and service.protocol not in ("udp", "fwmark"):
        raise IpvsInputError("one_packet scheduling applies only to udp and fwmark services, not to %s." % service.label())
    if service.protocol != "fwmark" and service.port == 0 and not timeout:
        raise IpvsInputError("port 0 (all ports) needs persistence: set persistence_timeout above 0 for %s." % service.label())
    return one_packet


def real_server_from_params(service, params, base=None, weight_override=None):
    """One real server of service; unset options take base's value (merged) or the ipvsadm default."""
    address = _real_server_address(params.get("address"), "Real server address")
    port = _real_server_port(service, params.get("port"), "real server %s port" % address)
    return _placed(service, port, _real_server_options(address, "real server %s" % address, params, base, weight_override))


def _real_server_address(value, what):
    return normalise_address(value, what)[0]


def _real_server_port(service, value, what):
    """The real server's port: the service's when unset (as ipvsadm does)."""
    return service.default_real_server_port() if value is None else checked_int(value, what, 0, MAX_PORT)


def _placed(service, port, options, name=None):
    """options (a real server without its port) as a real server of service on port.

    Only these checks depend on the service; the rest of a real server's options are
    checked once per distinct item (see pool_from_params). An address None (not known yet,
    while collecting findings) skips the check of its family, and name names the real server.
    """
    method = options.forwarding_method
    if options.address is not None and method != "tun" and address_family(options.address) != service.family:
        raise IpvsInputError("%s is %s but %s is %s: the kernel mixes address families only with forwarding_method tun." % (
            _real_server_named(options, name), address_family(options.address), service.label(), service.family))
    if method in ("dr", "tun") and port != service.default_real_server_port():
        raise IpvsInputError("%s port %d differs from the service port %d, but with forwarding_method %s the kernel cannot remap ports "
                             "(only nat can): drop port or use nat." % (
                                 _real_server_named(options, name), port, service.default_real_server_port(), method))
    # As RealServer(address, port, *options[2:]) builds it, without a call per field.
    return _new_tuple(RealServer, (options.address, port) + options[2:])


_new_tuple = tuple.__new__


def _real_server_named(options, name):
    return "real server %s" % (options.address if options.address is not None else name)


def _real_server_options(address, what, params, base, weight_override, findings=None):
    """A real server's options but its port (None here), checked; unset ones from base or ipvsadm's defaults.

    what names the real server in sentences. While collecting findings, what a refused value
    spoils is None in it, so the checks of its placement still run on the rest.
    """
    method = weight = thresholds = tunnel = None
    if _given(params, "forwarding_method"):
        method = _attempt(findings, _forwarding_method, params, base)
    if _given(params, "weight"):
        weight = _attempt(findings, _weight, what, params, base, weight_override)
    if _given(params, "upper_threshold", "lower_threshold"):
        thresholds = _attempt(findings, _thresholds, what, params, base)
    if method is not None and _given(params, "tunnel_type", "tunnel_port", "tunnel_checksum"):
        tunnel = _attempt(findings, _tunnel, what, method, params, base)
    upper, lower = thresholds or (None, None)
    tunnel_type, tunnel_port, checksum = tunnel or (None, None, None)
    return RealServer(address, None, method, weight, upper, lower, tunnel_type, tunnel_port, checksum)


def _forwarding_method(params, base):
    method = _pick(params, "forwarding_method", base, DEFAULT_FORWARDING_METHOD)
    if method not in FORWARDING_METHODS:
        raise IpvsInputError(unknown_value("forwarding_method", method, FORWARDING_METHODS))
    return method


def _weight(what, params, base, weight_override):
    weight = weight_override if weight_override is not None else _pick(params, "weight", base, DEFAULT_WEIGHT)
    return checked_int(weight, what + " weight", 0, MAX_WEIGHT)


def _thresholds(what, params, base):
    """(upper, lower); 0 is none."""
    upper = checked_int(_pick(params, "upper_threshold", base, 0), what + " upper_threshold", 0, MAX_THRESHOLD)
    lower = checked_int(_pick(params, "lower_threshold", base, 0), what + " lower_threshold", 0, MAX_THRESHOLD)
    if lower > upper:
        raise IpvsInputError("%s lower_threshold %d is above its upper_threshold %d (0 = none); the kernel refuses that." % (what, lower, upper))
    return upper, lower


def _tunnel(what, method, params, base):
    """(tunnel type, tunnel port, checksum): all None but with forwarding_method tun."""
    tunnel_given = [name for name in ("tunnel_type", "tunnel_port", "tunnel_checksum") if params.get(name) is not None]
    if method != "tun":
        if tunnel_given:
            raise IpvsInputError("%s sets %s, which apply only with forwarding_method tun." % (what, ", ".join(tunnel_given)))
        return None, None, None
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
    return tunnel_type, tunnel_port, checksum


def _item_key_without_port(item):
    """A hashable key of a real-server item of plain values but its port, or None (the item is
    then checked on its own).

    The port is left out because the director role names it on every item, and it is checked
    per service anyway. Each value's type is part of the key, so 1 and True, equal in Python,
    are never taken for each other.
    """
    try:
        key = tuple([(name, type(value), value) for name, value in item.items() if name != "port"])
        hash(key)
    except (AttributeError, TypeError):
        return None
    return key


def _collected_address_and_port(service, item, params, label, findings):
    """(address, port) of a real-server item while collecting findings, each None when unknown."""
    address = port = None
    if _given(params, "address"):
        read = findings.address_of or _real_server_address
        address = _attempt(findings, read, params["address"], label + " address")
    if service is not None and _given(params, "port"):
        port = _attempt(findings, _real_server_port, service, item.get("port"), label + " port")
    return address, port


class _CheckedItem(object):
    """A real-server item checked once for all the items of the same content but their port:
    its parameters, its address, and its options (without a port) per (live base, weight
    override), built when first asked for."""

    __slots__ = ("params", "address", "options")

    def __init__(self, params, address):
        self.params, self.address, self.options = params, address, {}

    def options_for(self, base, weight_override):
        options = self.options.get((base, weight_override))
        if options is None:
            options = _real_server_options(self.address, "real server %s" % self.address, self.params, base, weight_override)
            self.options[(base, weight_override)] = options
        return options


def _checked_item(item, where, position):
    """The _CheckedItem of a real-server item, from the items checked before when one had its
    content but its port; raise IpvsInputError naming the item."""
    item_key = _item_key_without_port(item)
    checked = _CHECKED_ITEMS.get(item_key) if item_key is not None else None
    if checked is None:
        label = _item_label(where, position)
        params = _validated(REAL_SERVER_ITEM_SPEC, item, label)
        checked = _CheckedItem(params, _real_server_address(params["address"], label + " address"))
        if item_key is not None:
            _CHECKED_ITEMS[item_key] = checked
    return checked


def _item_port(service, item, where, position):
    """The item's own port (the checked item may be another's, equal but for the port)."""
    port = item.get("port")
    # A plain port in range is the common case: no label to write for a sentence never raised.
    if isinstance(port, int) and not isinstance(port, bool) and 0 <= port <= MAX_PORT:
        return port
    return _real_server_port(service, port, _item_label(where, position) + " port")


def _item_label(where, position):
    return "%s[%d]" % (where, position)


def pool_from_params(service, items, live_servers=None, where="real_servers", merge=False, findings=None):
    """Build (present OrderedDict, absent keys) from a real_servers list; reject duplicates.

    A big table lists the same few real servers behind many services: an item is checked
    once per distinct content but its port (and per live base), and only its port and
    family are checked again for each service. While collecting findings every item is
    checked on its own, and service may be None (its identity was refused): each item's own
    values are still checked.
    """
    present, absent, seen = OrderedDict(), [], set()
    live_servers = live_servers or {}
    for position, item in enumerate(items or []):
        # Each item's label is written only for a sentence (or findings): a big table has thousands.
        if findings is None:
            checked = _checked_item(item, where, position)
            params, address, port = checked.params, checked.address, _item_port(service, item, where, position)
        else:
            # Findings may read addresses its own way: nothing of theirs goes into the cache.
            label = _item_label(where, position)
            checked, item_findings = None, findings.within(label)
            params = _validated(REAL_SERVER_ITEM_SPEC, item, label, findings=item_findings)
            if params is None:
                continue
            address, port = _collected_address_and_port(service, item, params, label, item_findings)
        key = (address, port)
        if address is not None and port is not None:
            if key in seen:
                _refuse(findings, "%s repeats real server %s port %d of %s; list each real server once." % (
                    _item_label(where, position), address, port, service.label()))
                continue
            seen.add(key)
        state = params.get("state") or "present"
        if state == "absent":
            absent.append(key)
            continue
        # drained keeps the live settings and only sets weight 0; merged keeps unset ones too.
        base = live_servers.get(key) if (merge or state == "drained") else None
        weight_override = 0 if state == "drained" else None
        if checked is not None:
            try:
                present[key] = _placed(service, port, checked.options_for(base, weight_override))
            except IpvsInputError as error:
                raise in_item(_item_label(where, position), error)
        else:
            what = "real server %s" % (address if address is not None else item.get("address"))
            options = _real_server_options(address, what, params, base, weight_override, item_findings)
            if port is not None:
                _attempt(item_findings, _placed, service, port, options, item.get("address"))
    return present, absent


# Checked real-server items by _item_key_without_port, for the life of one module run.
_CHECKED_ITEMS = {}


def desired_service_from_params(params, have, where, merge=False, purge_default=None, findings=None):
    """One DesiredService from a service's parameters (ipvs_service or an ipvs_table item).

    merge keeps the live value of every unset option; purge_default is what an unset
    purge_real_servers means (None: true exactly when real_servers is given). With findings,
    every refused value is kept there and None is returned when the service cannot be built.
    """
    service = None
    if _given(params, *SERVICE_IDENTITY_SPEC):
        service = _attempt(findings, virtual_service_from_params, params)
    entry = have.get(service) if service is not None else None
    base = entry.settings if (merge and entry is not None) else None
    settings = service_settings_from_params(service, params, base, findings)
    items = params.get("real_servers") if _given(params, "real_servers") else None
    purge = params.get("purge_real_servers")
    if purge is None or purge is REFUSED:
        purge = items is not None if purge_default is None else purge_default
    present, absent = pool_from_params(service, items, entry.real_servers if entry else None,
                                       where + ".real_servers" if where else "real_servers", merge, findings)
    if service is None or settings is None:
        return None
    return DesiredService(service, settings, present, absent, bool(purge))

# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an interface name, an address label, an IP address, a unit name, a file path and a
kernel module name may be.

Each value checked here ends up in a file or a command that root runs (a systemd unit, a
sysctl.d file, keepalived.conf, an ``ip`` argument), so the rules are allow-lists: whatever
they accept cannot start a new line, a comment, a block or an option there. The modules
call them on the host and the filters on the controller, so both refuse the same values
with the same sentence.

Every ``*_problem`` function returns None for a good value and otherwise one sentence that
names the value (``what``) and says what it must be. Standard library only.

Private to the collection: this API may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

# The kernel keeps interface names and IPv4 address labels in IFNAMSIZ bytes, the last one NUL.
MAX_INTERFACE_LENGTH = 15
# The kernel allows almost any byte in an interface name; this is the part of it that is
# safe in a unit file, a sysctl key, keepalived.conf and an argv, and that real NIC names use
# (eth0, enp0s31f6, br-lan, eth0.100, tunl0). No ':' - the kernel refuses it in names.
INTERFACE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]*")
INTERFACE_RULE = "letters, digits and . _ - @, starting with a letter, a digit or _"
# After the interface name and a colon, a label may hold one more character: ':' (eth0:0:web).
LABEL_SUFFIX = re.compile(r"[A-Za-z0-9_.:@-]*")
# systemd unit names (systemd.unit(5)), without the '\' escapes and '@' templates, which no
# unit of the collection uses; no '/', so a unit name can never leave its directory.
UNIT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*\.service")
MAX_UNIT_NAME_LENGTH = 255
# Absolute paths written into unit lines (ExecStart=, StandardInput=file:): no blank, quote,
# backslash, '%' (a systemd specifier), ';' or newline, and no empty segment.
ABSOLUTE_PATH = re.compile(r"(?:/[A-Za-z0-9_.+-]+)+")
PATH_RULE = "an absolute path of letters, digits and . _ + -, segments separated by one /, none of them . or .."
# Kernel module names as modules-load.d(5) and modprobe take them; the first character may
# not be '-', which modprobe would read as an option.
KERNEL_MODULE_NAME = re.compile(r"[a-z0-9_][a-z0-9_-]*")
# MODULE_NAME_LEN (64 - sizeof(unsigned long)) less the NUL.
MAX_KERNEL_MODULE_NAME_LENGTH = 55


def shown(value):
    """The value as a message shows it: quoted, with a newline or a tab visible as \\n, \\t."""
    if not isinstance(value, str):
        return repr(value)
    # "%s" gives plain str for any str subclass (the controller's tagged strings), whose
    # repr could otherwise differ.
    return repr("%s" % (value,))


def distinct_problems(problems):
    """The problems that are sentences, each once, in the order found (one bad value may break
    two rules that say the same)."""
    unique = []
    for problem in problems:
        if problem and problem not in unique:
            unique.append(problem)
    return unique


def interface_name_problem(name, what="interface"):
    """Why name cannot be an interface name (None when it can): 1 to 15 characters of INTERFACE_RULE."""
    if not isinstance(name, str) or not INTERFACE_NAME.fullmatch(name):
        return "%s %s is not an interface name: %s." % (what, shown(name), INTERFACE_RULE)
    if len(name) > MAX_INTERFACE_LENGTH:
        return ("%s %s has %d characters; the kernel keeps at most %d in an interface name (IFNAMSIZ)."
                % (what, shown(name), len(name), MAX_INTERFACE_LENGTH))
    return None


def address_label_problem(label, interface, what="label"):
    """Why label cannot label an IPv4 address on interface (None when it can).

    The kernel wants the interface name itself or the name, a colon and more (eth0:0), and
    keeps at most 15 characters; the interface name is checked on its own.
    """
    if not isinstance(label, str) or not (label == interface or (
            label.startswith("%s:" % interface) and LABEL_SUFFIX.fullmatch(label[len(interface) + 1:]))):
        if isinstance(label, str) and INTERFACE_NAME.fullmatch(label.split(":", 1)[0]) and LABEL_SUFFIX.fullmatch(label):
            return "%s %s must be %s or start with %s: (as in %s:0)." % (what, shown(label), interface, interface, interface)
        return ("%s %s is not an address label: the interface name, alone or followed by : and more letters, digits "
                "or . _ - : @." % (what, shown(label)))
    if len(label) > MAX_INTERFACE_LENGTH:
        return ("%s %s has %d characters; the kernel keeps at most %d in an address label (IFNAMSIZ)."
                % (what, shown(label), len(label), MAX_INTERFACE_LENGTH))
    return None


def ip_address_problem(value, what="address", prefix=False, version=None):
    """Why value is not an IP address (None when it is); prefix=True also takes IP/prefix.

    The text must be the address exactly - no blanks around it - and carry no IPv6 zone id:
    Python's ipaddress accepts fe80::1%eth0 and then prints it without the zone, so the
    zone would silently be lost on its way into a command or a file.
    """
    examples = {4: "192.0.2.100", 6: "2001:db8::100/128" if prefix else "2001:db8::100"}
    example = " or ".join(examples[number] for number in ((version,) if version else (4, 6)))
    kind = ("an IPv%d address" % version if version else "an IP address") + (" or IP/prefix" if prefix else "")
    text = "%s" % (value,) if isinstance(value, str) else None
    if text is not None and ":" in text.split("%", 1)[0] and "%" in text:
        return "%s %s has an IPv6 zone id (after the %%), which lvs.topology refuses: give the address without it." % (what, shown(value))
    try:
        parsed = (ipaddress.ip_interface if prefix else ipaddress.ip_address)(text)
    except ValueError:
        parsed = None
    if parsed is None or (version is not None and parsed.version != version):
        return "%s %s is not %s (for example %s)." % (what, shown(value), kind, example)
    return None


def optional_interface_problem(name, what="interface"):
    """An empty interface variable means 'the default one'; anything else must be an interface name."""
    if name is None or name == "":
        return None
    return interface_name_problem(name, what)


def vip_problems(vips):
    """Every problem of a VIP list as lvs_director_vips gives it (address, prefix, interface, label).

    The labels come from the interface names of the host (eth0:0, eth0:1, ...), so a long NIC
    name or many VIPs on one NIC can make a label the kernel refuses: it is found here, on
    the controller, rather than by ip halfway through a deployment.
    """
    problems = []
    for vip in vips or []:
        what = "VIP %s" % vip.get("address")
        problems.append(ip_address_problem(vip.get("address"), "VIP"))
        problems.append(interface_name_problem(vip.get("interface"), what + " interface"))
        if vip.get("label"):
            problems.append(address_label_problem(vip["label"], vip.get("interface"), what + " label"))
    return problems


def unit_name_problem(name, what="unit"):
    """Why name cannot be the name of a collection-owned systemd service unit (None when it can)."""
    if not isinstance(name, str) or not UNIT_NAME.fullmatch(name) or len(name) > MAX_UNIT_NAME_LENGTH:
        return ("%s %s is not a unit name: 1 to %d characters, letters, digits and . _ - :, starting with a letter, "
                "a digit or _ and ending in .service." % (what, shown(name), MAX_UNIT_NAME_LENGTH))
    return None


def absolute_path_problem(path, what="path"):
    """Why path cannot be a file path written into a unit or a command (None when it can): PATH_RULE."""
    if (not isinstance(path, str) or not ABSOLUTE_PATH.fullmatch(path)
            or any(segment in (".", "..") for segment in path.split("/"))):
        return "%s %s is not %s." % (what, shown(path), PATH_RULE)
    return None


def kernel_module_problem(name, what="kernel module"):
    """Why name cannot be a kernel module name for modules-load.d and modprobe (None when it can)."""
    if not isinstance(name, str) or not KERNEL_MODULE_NAME.fullmatch(name) or len(name) > MAX_KERNEL_MODULE_NAME_LENGTH:
        return ("%s %s is not a kernel module name: 1 to %d lowercase letters, digits, _ and -, not starting with -."
                % (what, shown(name), MAX_KERNEL_MODULE_NAME_LENGTH))
    return None

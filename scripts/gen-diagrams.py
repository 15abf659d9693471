"""Draw each lab topology (lab/topologies/*.yml) as an SVG diagram for the docs.

Hosts are boxes, segments are horizontal buses, laid out as the tree a breadth-first walk
from the client finds. When the topology carries lvs_virtual_services, the first service's
packet path is drawn on top: the request from the client to the director and on to a real
server, and the reply, which goes straight back to the client for DR and TUN and back
through the director for NAT and FULLNAT.

A topology whose services use one forwarding method gives one diagram, <topology>.svg. A
topology serving several methods gives one diagram per method, <topology>-<method>.svg in
the order the methods first appear, each showing that method's services only (the
director's VIPs, what the real servers need) and the packet path of its first service.

The output depends only on the topology files, so `make docs-check` can compare it byte for
byte. Without topology arguments every file in lab/topologies/ is drawn, and an SVG in the
output directory that no topology gives any more is removed (with --check: reported as
stale).

    python scripts/gen-diagrams.py [--check] [--output docs/diagrams] [topology.yml ...]
"""

import argparse
import ipaddress
import pathlib
import sys
from xml.sax.saxutils import escape

import yaml

from generated_files import sync

ROOT = pathlib.Path(__file__).resolve().parent.parent
SLOT_WIDTH = 240
BOX_WIDTH = 218
LINE_HEIGHT = 15
BOX_PADDING = 8
SEGMENT_ROW_HEIGHT = 56
HOST_ROW_GAP = 34
MARGIN = 24
TITLE_HEIGHT = 46
FONT = "font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\""
ROLE_FILL = {"client": "#eef3fb", "router": "#f2f2f2", "director": "#fff4df", "real_server": "#e9f6ec"}
REQUEST_COLOUR, REPLY_COLOUR = "#1f5fbf", "#c0392b"

# What each forwarding method asks of a real server, shown in its box.
REAL_SERVER_DUTY = {
    "dr": "VIPs on lo, ARP suppressed",
    "tun": "VIPs on tunl0, rp_filter loose",
    "nat": "default gateway = DIP",
    "fullnat": "no LVS settings",
}


def forwarding_method(service):
    return service.get("forwarding_method", "dr")


class Node:
    """A host or a segment in the drawing tree."""

    def __init__(self, kind, name):
        self.kind, self.name = kind, name
        self.children, self.parent = [], None
        self.depth = 0
        self.x = 0.0


def load_topology(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def host_lines(name, host, services):
    """The text of a host's box: name and role, its release, one line per address, its LVS duty."""
    lines = ["%s (%s)" % (name, host["role"].replace("_", " "))]
    if "release" in host:
        # A host pinned to a Debian release (the others run the lab instance's).
        lines.append("Debian %s" % host["release"])
    for index, nic in enumerate(host.get("nics", [])):
        for family in ("ipv4", "ipv6"):
            if family in nic:
                lines.append("eth%d %s" % (index, nic[family]))
    if host["role"] == "director":
        for service in services:
            if service.get("protocol") == "fwmark":
                # The kernel matches a fwmark service by its mark, not by VIP:port.
                lines.append("FWM %s %s" % (service["fwmark"], service.get("scheduler", "wlc")))
            else:
                # An IPv6 VIP in brackets, as ipvsadm writes it: its last group is not the port.
                vip = "[%s]" % service["vip"] if ":" in str(service["vip"]) else service["vip"]
                lines.append("VIP %s:%s %s" % (vip, service.get("port", "-"), service.get("scheduler", "wlc")))
    if host["role"] == "real_server":
        # A real server's own method, where it has one, is the one that reaches it.
        methods = sorted({server.get("forwarding_method", forwarding_method(service)) for service in services
                          for server in service.get("real_servers", []) if server.get("host") == name})
        lines.extend(REAL_SERVER_DUTY[method] for method in methods)
    return lines


def build_tree(topology):
    """Breadth-first from the first client (else the first host) over hosts and segments."""
    hosts = topology["hosts"]
    segments_of = {name: [nic["segment"] for nic in host.get("nics", [])] for name, host in hosts.items()}
    clients = [name for name, host in hosts.items() if host["role"] == "client"]
    root = Node("host", clients[0] if clients else next(iter(hosts)))
    nodes = {("host", root.name): root}
    queue = [root]
    while queue:
        node = queue.pop(0)
        if node.kind == "host":
            neighbours = [("segment", segment) for segment in segments_of[node.name]]
        else:
            neighbours = [("host", name) for name in hosts if node.name in segments_of[name]]
        for key in neighbours:
            if key in nodes:
                continue
            child = Node(*key)
            child.parent, child.depth = node, node.depth + 1
            node.children.append(child)
            nodes[key] = child
            queue.append(child)
    unreachable = sorted(name for name in hosts if ("host", name) not in nodes)
    if unreachable:
        raise ValueError("hosts not connected to %s: %s" % (root.name, ", ".join(unreachable)))
    return root, nodes


def place(node, next_slot):
    """Leaves take consecutive slots; a parent sits over the middle of its children."""
    if not node.children:
        node.x = next_slot * SLOT_WIDTH + SLOT_WIDTH / 2
        return next_slot + 1
    for child in node.children:
        next_slot = place(child, next_slot)
    node.x = (node.children[0].x + node.children[-1].x) / 2
    return next_slot


def row_offsets(nodes, box_heights):
    """The top y of every depth: host rows as tall as their tallest box, bus rows fixed."""
    depth_count = max(node.depth for node in nodes.values()) + 1
    tops, y = [], TITLE_HEIGHT + MARGIN
    for depth in range(depth_count):
        tops.append(y)
        if depth % 2 == 0:
            y += max(box_heights[node.name] for node in nodes.values() if node.depth == depth) + HOST_ROW_GAP
        else:
            y += SEGMENT_ROW_HEIGHT
    return tops, y


def tree_path(a, b):
    """The nodes from a to b through their closest common ancestor."""
    up_a, node = [], a
    while node is not None:
        up_a.append(node)
        node = node.parent
    up_b, node = [], b
    while node not in up_a:
        up_b.append(node)
        node = node.parent
    return up_a[:up_a.index(node) + 1] + list(reversed(up_b))


def bus_span(node):
    """A bus runs under its own hosts only, so sibling buses in one row never overlap."""
    xs = [child.x for child in node.children] or [node.parent.x]
    return min(xs) - BOX_WIDTH / 2 + 10, max(xs) + BOX_WIDTH / 2 - 10


def uplink_route(segment, bus_y):
    """From the parent host down to the bus: straight when above it, else with one elbow."""
    parent, (left, right) = segment.parent, bus_span(segment)
    y = bus_y[segment.name]
    if left <= parent.x <= right:
        return [(parent.x, y)]
    middle = (left + right) / 2
    elbow = y - SEGMENT_ROW_HEIGHT / 2 + 6
    return [(parent.x, elbow), (middle, elbow), (middle, y)]


def path_points(path, anchor, bus_y, offset):
    """Route through host centres and along the buses between them, drawn beside the links."""
    points = []
    for index, node in enumerate(path):
        if node.kind == "host":
            points.append((node.x, anchor[node.name]))
            continue
        before, after = path[index - 1], path[index + 1]
        route_in = uplink_route(node, bus_y) if before is node.parent else [(before.x, bus_y[node.name])]
        route_out = list(reversed(uplink_route(node, bus_y))) if after is node.parent else [(after.x, bus_y[node.name])]
        points.extend(route_in + route_out)
    return [(x + offset, y + offset) for x, y in points]


def clip_to_boxes(points, first, last, box_edges):
    """End a route at the edges of its first and last boxes, so the arrowhead shows."""
    (x0, y0), (x1, y1) = points[0], points[1]
    top, bottom = box_edges[first]
    points[0] = (x0, bottom if y1 > y0 else top)
    (xa, ya), (xb, yb) = points[-2], points[-1]
    top, bottom = box_edges[last]
    points[-1] = (xb, bottom if ya > yb else top)
    return points


def polyline(points, colour, dashed):
    coordinates = " ".join("%d,%d" % (round(x), round(y)) for x, y in points)
    dash = ' stroke-dasharray="7 4"' if dashed else ""
    return ('<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"%s marker-end="url(#arrow-%s)"/>'
            % (coordinates, colour, dash, colour.lstrip("#")))


def diagrams(topology, name):
    """(file stem, services to draw, method or None) for each diagram of a topology: one per
    forwarding method when its services use several, else one named after the topology."""
    services = (topology.get("inventory_vars") or {}).get("lvs_virtual_services") or []
    methods = list(dict.fromkeys(forwarding_method(service) for service in services))
    if len(methods) <= 1:
        return [(name, services, None)]
    return [("%s-%s" % (name, method), [service for service in services if forwarding_method(service) == method], method)
            for method in methods]


def packet_legs(topology, services, nodes):
    """(request legs, reply legs, service) for the first of services, or None without one."""
    hosts = topology["hosts"]
    directors = [name for name, host in hosts.items() if host["role"] == "director"]
    clients = [name for name, host in hosts.items() if host["role"] == "client"]
    if not services or not directors or not clients:
        return None
    service = services[0]
    real_server = nodes[("host", service["real_servers"][0]["host"])]
    client, director = nodes[("host", clients[0])], nodes[("host", directors[0])]
    request = [tree_path(client, director), tree_path(director, real_server)]
    if forwarding_method(service) in ("nat", "fullnat"):
        reply = [tree_path(real_server, director), tree_path(director, client)]
    else:
        reply = [tree_path(real_server, client)]
    return request, reply, service


def text(x, y, content, size=11, extra=""):
    return '<text x="%d" y="%d" %s font-size="%d"%s>%s</text>' % (x, y, FONT, size, extra, escape(content))


def line(points, colour="#555555", width=1.5):
    coordinates = " ".join("%d,%d" % (round(x), round(y)) for x, y in points)
    return '<polyline points="%s" fill="none" stroke="%s" stroke-width="%s"/>' % (coordinates, colour, width)


def address_of(host):
    """A host's first IPv4 address without its prefix length."""
    return host["nics"][0]["ipv4"].split("/")[0]


def rewrite_summary(topology, service):
    """Who rewrites what, in the lab's addresses, for the legend."""
    hosts = topology["hosts"]
    director = next(host for host in hosts.values() if host["role"] == "director")
    client = next(host for host in hosts.values() if host["role"] == "client")
    first = service["real_servers"][0]
    real_server = "%s:%s" % (address_of(hosts[first["host"]]), first.get("port", service["port"]))
    method = forwarding_method(service)
    if method == "dr":
        return "director rewrites the destination MAC to %s's; the IP header is unchanged" % first["host"]
    if method == "tun":
        return "director adds an outer IP header %s -> %s (IPIP); the inner packet is unchanged" % (
            address_of(director), real_server.split(":")[0])
    if method == "nat":
        return "director rewrites the destination %s:%s -> %s, and the reply's source back" % (
            service["vip"], service["port"], real_server)
    return "director rewrites the destination -> %s and the source %s -> %s, and both back" % (
        real_server, address_of(client), address_of(director))


def render(topology, name, services, method=None):
    """The SVG of a topology with these of its services; method names them in the title."""
    hosts = topology["hosts"]
    root, nodes = build_tree(topology)
    title = "%s.yml%s: %s" % (name, " (%s services)" % method.upper() if method else "", topology.get("description", ""))
    width = max(place(root, 0) * SLOT_WIDTH, len(title) * 9 + MARGIN) + 2 * MARGIN
    for node in nodes.values():
        node.x += MARGIN
    lines = {host: host_lines(host, hosts[host], services) for host in hosts}
    box_heights = {host: len(content) * LINE_HEIGHT + 2 * BOX_PADDING for host, content in lines.items()}
    tops, height = row_offsets(nodes, box_heights)
    legs = packet_legs(topology, services, nodes)
    height += (60 if legs else 0) + MARGIN
    ordered = sorted(nodes.values(), key=lambda item: (item.depth, item.x))
    bus_y = {node.name: tops[node.depth] + SEGMENT_ROW_HEIGHT / 2 for node in ordered if node.kind == "segment"}
    anchor = {node.name: tops[node.depth] + box_heights[node.name] / 2 for node in ordered if node.kind == "host"}
    box_edges = {node.name: (tops[node.depth], tops[node.depth] + box_heights[node.name])
                 for node in ordered if node.kind == "host"}

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
           % (width, height, width, height),
           "<title>%s</title>" % escape("lab topology " + title), "<defs>"]
    for colour in (REQUEST_COLOUR, REPLY_COLOUR):
        out.append('<marker id="arrow-%s" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                   'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>'
                   % (colour.lstrip("#"), colour))
    out += ["</defs>", '<rect width="100%" height="100%" fill="#ffffff"/>',
            text(MARGIN, MARGIN + 8, title, 15, ' font-weight="bold"')]

    # Buses and links first, then the packet paths, then the boxes over both: a path that
    # crosses a host (the router) visibly goes through it.
    for node in ordered:
        if node.kind != "segment":
            continue
        left, right = bus_span(node)
        y = bus_y[node.name]
        out.append(line([(left, y), (right, y)], width=4))
        segment = topology["segments"][node.name]
        label = " ".join([node.name] + [segment[family] for family in ("ipv4", "ipv6") if family in segment])
        out.append(text(left + 2, y - 6, label, extra=' fill="#333333"'))
        out.append(line([(node.parent.x, box_edges[node.parent.name][1])] + uplink_route(node, bus_y)))
        for child in node.children:
            out.append(line([(child.x, y), (child.x, box_edges[child.name][0])]))
    if legs:
        request, reply, service = legs
        for offset, (colour, dashed, paths) in enumerate(((REQUEST_COLOUR, False, request), (REPLY_COLOUR, True, reply))):
            for index, path in enumerate(paths):
                points = clip_to_boxes(path_points(path, anchor, bus_y, (-14, 14)[offset] + (-6, 6)[offset] * index),
                                       path[0].name, path[-1].name, box_edges)
                out.append(polyline(points, colour, dashed))
    for node in ordered:
        if node.kind != "host":
            continue
        top, bottom = box_edges[node.name]
        left = node.x - BOX_WIDTH / 2
        out.append('<rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="%s" stroke="#333333"/>'
                   % (left, top, BOX_WIDTH, bottom - top, ROLE_FILL.get(hosts[node.name]["role"], "#ffffff")))
        for index, content in enumerate(lines[node.name]):
            out.append(text(left + BOX_PADDING, top + BOX_PADDING + (index + 1) * LINE_HEIGHT - 4, content,
                            extra=' font-weight="bold"' if index == 0 else ""))
    if legs:
        request, reply, service = legs
        method = forwarding_method(service).upper()
        real_server = service["real_servers"][0]["host"]
        back = "back through the director" if method in ("NAT", "FULLNAT") else "straight to the client"
        legend_y = height - MARGIN - 40
        out.append(text(MARGIN, legend_y, "solid: request, client -> VIP %s:%s -> director -> %s (%s)"
                        % (ipaddress.ip_address(service["vip"]), service.get("port", "-"), real_server, method),
                        12, ' fill="%s"' % REQUEST_COLOUR))
        out.append(text(MARGIN, legend_y + 20, "dashed: reply from %s, %s" % (real_server, back),
                        12, ' fill="%s"' % REPLY_COLOUR))
        out.append(text(MARGIN, legend_y + 40, rewrite_summary(topology, service), 12))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "diagrams"))
    parser.add_argument("--check", action="store_true", help="fail when a generated file differs, write nothing")
    parser.add_argument("topologies", nargs="*")
    args = parser.parse_args(argv)
    paths = [pathlib.Path(path) for path in args.topologies] or sorted((ROOT / "lab" / "topologies").glob("*.yml"))
    output = pathlib.Path(args.output)
    outputs = []
    for path in paths:
        topology = load_topology(path)
        outputs.extend((output / ("%s.svg" % stem), render(topology, path.stem, services, method))
                       for stem, services, method in diagrams(topology, path.stem))
    status = sync(outputs, args.check, "stale diagrams (lab/topologies changed)")
    if args.topologies:
        return status
    orphans = sorted(set(output.glob("*.svg")) - set(target for target, dummy in outputs))
    if orphans and args.check:
        print("stale diagrams (no topology draws them any more): %s; run make docs"
              % ", ".join(str(orphan) for orphan in orphans), file=sys.stderr)
        return 1
    for orphan in orphans:
        orphan.unlink()
        print("removed %s" % orphan)
    return status

if __name__ == "__main__":
    sys.exit(main())

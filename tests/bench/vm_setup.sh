#!/usr/bin/env bash
# Runs inside the bench VM (as root): the VIP, a client network namespace and an echo server,
# so a long-lived TCP connection can go client -> VIP -> IPVS (DR, local real server) -> echo;
# and kprobes on IPVS's entry points for changes, so every step's kernel operations are counted
# the same way, whoever sends them.
set -euo pipefail
vip=$1
# Every change to the table enters the kernel through one of two functions: generic netlink
# (ipvsadm and keepalived here) or the older setsockopt interface. The sync daemon has its own
# netlink command. ip_vs exports none of them, so they are checked in kallsyms first.
#
# A step that starts from empty starts, as on a booted host, from a freshly loaded ip_vs: a
# flush leaves the real servers it removed in IPVS's trash for minutes, and every real server
# added meanwhile searches the whole trash, so adding N rules right after N were removed costs
# N x N comparisons (at 50 000 rules minutes on this guest). bench-fresh-ipvs empties the table,
# reloads ip_vs and sets the probes anew; where ip_vs cannot be unloaded it says so in
# /run/bench-warnings and keeps the flushed table.
install -m 0755 /dev/stdin /usr/local/bin/bench-fresh-ipvs <<'SH'
#!/bin/bash
set -euo pipefail
tracing=/sys/kernel/tracing
symbols="ip_vs_genl_set_cmd do_ip_vs_set_ctl ip_vs_genl_set_daemon"
mountpoint -q "$tracing" || mount -t tracefs tracefs "$tracing"
ipvsadm -C
if [ -d "$tracing/events/lvsbench" ]; then
  echo 0 > "$tracing/events/lvsbench/enable"
  for symbol in $symbols; do
    echo "-:lvsbench/$symbol" >> "$tracing/kprobe_events"
  done
fi
modules=$(lsmod | awk '$1 ~ /^ip_vs_/ { print $1 }')
# shellcheck disable=SC2086 # one argument per module
if ! error=$(modprobe -r $modules ip_vs 2>&1); then
  echo "ip_vs stayed loaded, steps from empty may search IPVS's trash: $error" >> /run/bench-warnings
fi
modprobe ip_vs
for symbol in $symbols; do
  if ! grep -q " $symbol\b" /proc/kallsyms; then
    echo "this kernel has no $symbol to count IPVS operations with" >&2
    exit 1
  fi
  echo "p:lvsbench/$symbol $symbol" >> "$tracing/kprobe_events"
done
# Counting needs the probes enabled, not the trace: the hit count grows before the ring buffer
# is looked at.
echo 0 > "$tracing/tracing_on"
echo 1 > "$tracing/events/lvsbench/enable"
SH
bench-fresh-ipvs
install -m 0755 /dev/stdin /usr/local/bin/bench-ipvs-ops <<'SH'
#!/bin/sh
# Prints the table operations and the sync daemon operations the kernel has received since
# bench-fresh-ipvs last set the probes.
exec awk '$1 == "ip_vs_genl_set_cmd" || $1 == "do_ip_vs_set_ctl" { table += $2 }
          $1 == "ip_vs_genl_set_daemon" { daemon += $2 }
          END { print table + 0, daemon + 0 }' /sys/kernel/tracing/kprobe_profile
SH
# The lab image caches the bytecode of zip-imported modules (docs/lab.md); the bench measures
# a stock host, where every task compiles Ansible's module_utils afresh.
rm -f /usr/lib/python3/dist-packages/lvs-lab-zipimport-cache.pth
ipvsadm -C
ip address replace "$vip/32" dev lo
if ! ip netns list | grep -qw benchclient; then
  ip netns add benchclient
  ip link add bench0 type veth peer name bench1 netns benchclient
fi
ip address replace 203.0.113.1/24 dev bench0
ip link set bench0 up
ip -n benchclient address replace 203.0.113.2/24 dev bench1
ip -n benchclient link set lo up
ip -n benchclient link set bench1 up
ip -n benchclient route replace default via 203.0.113.1
install -m 0755 /dev/stdin /usr/local/bin/bench-python <<'PY'
#!/usr/bin/python3
# The bench's Python for module runs: runs python3 with the module on stdin and logs
# the module's wall time and peak RSS (KiB) to /run/bench-module.log.
import resource, subprocess, sys, time
started = time.monotonic()
rc = subprocess.call(["/usr/bin/python3"] + sys.argv[1:])
with open("/run/bench-module.log", "a") as log:
    log.write("%.3f %d\n" % (time.monotonic() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)
PY
if ! pgrep -f bench-echo >/dev/null; then
  cat > /run/bench-echo.py <<'PY'
import socketserver
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("0.0.0.0", 7), Echo).serve_forever()
PY
  setsid python3 /run/bench-echo.py bench-echo </dev/null >/dev/null 2>&1 &
fi

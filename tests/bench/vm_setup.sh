#!/usr/bin/env bash
# Runs inside the bench VM (as root): the VIP, a client network namespace and an echo server,
# so a long-lived TCP connection can go client -> VIP -> IPVS (DR, local real server) -> echo.
set -euo pipefail
vip=$1
modprobe ip_vs
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

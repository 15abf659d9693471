# Runs inside the bench VM (as root): starts, reloads and stops keepalived on the
# keepalived.conf the bench put in place and prints what it measured as one JSON line.
#   start RULES                 start keepalived, wait until the kernel table holds RULES real servers
#   reload SERVICE ADDRESS WEIGHT   reload keepalived, wait until the kernel has that weight and
#                                   keepalived reports the reload done
#   stop                        stop keepalived and empty the table
# Times are taken here, so no SSH round trip is counted. Kernel operations are the hits of
# kprobes on IPVS's set entry points (bench-ipvs-ops, set up by vm_setup.sh), read before and
# after, so they count what reached the kernel, whoever sent it.
import json
import os
import subprocess
import sys
import time

UNIT = "keepalived"
PROC_TABLE = "/proc/net/ip_vs"
# systemd's default start and stop timeouts (90 s) are shorter than a TCG guest takes to
# program or clear tens of thousands of rules; the bench measures keepalived, not the unit.
DROP_IN = "/run/systemd/system/keepalived.service.d/bench.conf"
POLL_PAUSE = 0.2


class Failed(Exception):
    pass


def run(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def kernel_ops():
    """(table, sync daemon) operations the kernel has received since the probes were set."""
    table, daemon = run("bench-ipvs-ops").split()
    return int(table), int(daemon)


def unit_state():
    return run("systemctl", "show", "-p", "ActiveState", "--value", UNIT).strip()


def journal(started):
    """keepalived's last log lines since the monotonic time started."""
    since = time.time() - (time.monotonic() - started) - 1
    return subprocess.run(["journalctl", "-u", UNIT, "--since", "@%d" % since, "--no-pager", "-n", "30"],
                          capture_output=True, text=True, check=False).stdout


def real_servers_in_kernel():
    """The real servers of the whole table, read from /proc/net/ip_vs (one line each)."""
    with open(PROC_TABLE) as handle:
        return sum(1 for line in handle if line.startswith("  -> ") and "RemoteAddress" not in line)


def weight_in_kernel(service, address):
    """The weight the kernel holds for address in service (host:port), None while it is absent."""
    for line in run("ipvsadm", "-Ln", "-t", service).splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0] == "->" and fields[1].rsplit(":", 1)[0] == address:
            return int(fields[3])
    return None


def memory():
    """Of keepalived's processes: the sum of their PSS (shared pages counted once) and each one's
    peak RSS (VmHWM), in KiB."""
    pss, peaks = 0, []
    for pid in run("pgrep", "-x", "keepalived").split():
        try:
            with open("/proc/%s/smaps_rollup" % pid) as handle:
                pss += sum(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
            with open("/proc/%s/status" % pid) as handle:
                peaks += [int(line.split()[1]) for line in handle if line.startswith("VmHWM:")]
        except FileNotFoundError:
            continue
    return {"pss_kib": pss, "peak_rss_kib": sorted(peaks, reverse=True)}


def wait(conditions, timeout, started, grace=60):
    """{name: seconds from started until conditions[name]() first held}. Fails when keepalived
    fails, when one condition still does not hold grace seconds after all others did, or at
    the timeout."""
    held = {}
    while len(held) < len(conditions):
        if unit_state() == "failed":
            raise Failed("keepalived failed:\n%s" % journal(started))
        for name, condition in conditions.items():
            if name not in held and condition():
                held[name] = time.monotonic() - started
        now = time.monotonic() - started
        if now > timeout or (held and len(held) == len(conditions) - 1 and now > max(held.values()) + grace):
            raise Failed("keepalived: %s did not happen within %d s (%s)"
                         % (", ".join(sorted(set(conditions) - set(held))), now, held))
        time.sleep(POLL_PAUSE)
    return held


def settled_ops(before):
    """Operations since before, once they stopped growing for a second."""
    ops = kernel_ops()
    while True:
        time.sleep(1)
        now = kernel_ops()
        if now == ops:
            return {"ops": ops[0] - before[0], "sync_daemon_ops": ops[1] - before[1]}
        ops = now


def start(rules, timeout):
    os.makedirs(os.path.dirname(DROP_IN), exist_ok=True)
    with open(DROP_IN, "w") as handle:
        handle.write("[Service]\nTimeoutStartSec=infinity\nTimeoutStopSec=infinity\n")
    run("systemctl", "daemon-reload")
    before = kernel_ops()
    started = time.monotonic()
    # Type=notify: systemctl start returns once keepalived reported READY=1.
    starting = subprocess.Popen(["systemctl", "start", UNIT])
    result = wait({"seconds": lambda: real_servers_in_kernel() == rules,
                   "ready_s": lambda: starting.poll() is not None}, timeout, started)
    if starting.returncode:
        raise Failed("systemctl start keepalived failed:\n%s" % journal(started))
    result.update(settled_ops(before))
    result.update(memory())
    return result


def reload(service, address, weight, timeout):
    before = kernel_ops()
    started = time.monotonic()
    run("systemctl", "reload", UNIT)
    # keepalived tells systemd RELOADING=1 on SIGHUP and READY=1 once its processes reloaded;
    # the weight changes in between, so once it shows, an active unit means the reload is done.
    result = wait({"seconds": lambda: weight_in_kernel(service, address) == weight}, timeout, started)
    result.update(wait({"done_s": lambda: unit_state() == "active"}, timeout, started))
    result.update(settled_ops(before))
    result.update(memory())
    return result


def stop():
    started = time.monotonic()
    run("systemctl", "stop", UNIT)
    run("ipvsadm", "-C")
    return {"seconds": time.monotonic() - started}


def main(argv):
    command, timeout = argv[1], float(os.environ.get("BENCH_TIMEOUT", "1800"))
    if command == "start":
        result = start(int(argv[2]), timeout)
    elif command == "reload":
        result = reload(argv[2], argv[3], int(argv[4]), timeout)
    else:
        result = stop()
    print(json.dumps(result))


if __name__ == "__main__":
    try:
        main(sys.argv)
    except Failed as error:
        print(error, file=sys.stderr)
        sys.exit(1)

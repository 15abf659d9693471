# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench: IPVS table convergence against the ipvsadm-restore floor, on a running lab.

For each N (real-server rules), in one VM: keepalived owning the same table (started from
empty, then one weight changed by reload), then (a) ipvsadm-restore from empty, (b) the
collection converging the same rules from empty in one ansible-playbook run, (c) the no-op
rerun, (d) one weight change while a connection to another real server stays open, and
(e) at N = 100 a naive loop of one ipvs_real_server task per rule. scripts/bench.sh brings
the lab up and down around this script.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

import yaml

import rules

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, ".build", "collections"))
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.record import MEMO_PATH  # noqa: E402 (after its path)
HOST = "target"
LOOP_SIZE = 100
# The size the goals are set at, and what the largest size is compared with.
GOAL_SIZE = 5000
MODULE_RSS_GOAL_MIB = 200
# A per-rule cost at the largest N at most this many times the one at GOAL_SIZE counts as linear.
LINEAR_RATIO = 1.5
# (key, heading) of the printed table; BENCH_JSON rows carry every key.
COLUMNS = (
    ("rules", "N rules"), ("ansible_floor_s", "Ansible floor s"), ("restore_s", "(a) restore s"), ("converge_s", "(b) converge s"), ("noop_s", "(c) no-op s"),
    ("noop_changed", "no-op changed"), ("one_weight_s", "(d) weight s"), ("one_weight_changes", "(d) kernel ops"),
    ("ka_start_s", "keepalived start s"), ("ka_reload_s", "keepalived reload s"), ("ka_reload_ops", "reload kernel ops"),
    ("ka_connection", "reload connection"), ("ka_peak_rss_mib", "keepalived peak RSS MiB"), ("loop_s", "(e) loop s"),
)
CONF = "/etc/keepalived/keepalived.conf"


class BenchError(Exception):
    pass


class Lab(object):
    """The bench's lab instance: commands in the VM and ansible-playbook runs against it."""

    def __init__(self, instance, converge="converge.yml"):
        self.instance = instance
        self.converge = converge
        self.workdir = os.path.join(ROOT, ".build", "bench")
        self.inventory = os.path.join(self.workdir, "inventory.yml")
        self.group_vars = os.path.join(self.workdir, "group_vars", "directors.json")

    def vm(self, command, stdin=None, check=True):
        argv = [sys.executable, os.path.join(ROOT, "lab", "labctl.py"), "ssh", self.instance, HOST, "--", command]
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise BenchError("in the VM, %r failed (%d): %s" % (command, result.returncode, result.stderr.strip()))
        return result.stdout

    def prepare(self):
        """An inventory of the lab VM whose group_vars file the bench rewrites per run."""
        with open(os.path.join(ROOT, ".lab", self.instance, "inventory.yml")) as handle:
            inventory = yaml.safe_load(handle)
        inventory["all"].pop("vars", None)
        shutil.rmtree(self.workdir, ignore_errors=True)
        os.makedirs(os.path.dirname(self.group_vars))
        with open(self.inventory, "w") as handle:
            yaml.safe_dump(inventory, handle, default_flow_style=False)
        with open(os.path.join(HERE, "vm_setup.sh")) as handle:
            self.vm("bash -s %s" % rules.VIP, stdin=handle.read())
        for helper in ("vm_client.py", "vm_keepalived.py"):
            with open(os.path.join(HERE, helper)) as handle:
                self.vm("cat > /run/bench-%s" % helper[3:], stdin=handle.read())

    def kernel_ops(self):
        """Table operations the kernel has received so far (kprobe hits, see vm_setup.sh)."""
        return int(self.vm("bench-ipvs-ops").split()[0])

    def playbook(self, name, count, weight_changed=False, measured_python=False, keepalived=False, extra_vars=None):
        """Run tests/bench/<name> on the table of count rules; return (seconds, changed tasks, last result).

        ansible-core's tree callback writes the host's last task result to a file, so no extra
        task has to report it. measured_python runs modules through bench-python (their time
        and RSS in the VM, one more Python start): never for a timed step.
        """
        rules.write_vars(self.group_vars, count, weight_changed, keepalived)
        argv = ["ansible-playbook", "-i", self.inventory, os.path.join(HERE, name)]
        for key, value in sorted((extra_vars or {}).items()):
            argv += ["-e", "%s=%s" % (key, value)]
        if measured_python:
            argv += ["-e", "ansible_python_interpreter=/usr/local/bin/bench-python"]
        tree = os.path.join(self.workdir, "results")
        shutil.rmtree(tree, ignore_errors=True)
        env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.tree", ANSIBLE_CALLBACK_TREE_DIR=tree)
        started = time.monotonic()
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
        output = process.stdout.read()
        dummy, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        if status != 0:
            raise BenchError("ansible-playbook %s on %d rules failed:\n%s" % (name, count, output[-4000:]))
        recap = re.search(r"^%s\s*:.*changed=(\d+)" % HOST, output, re.M)
        self.controller_rss_kib = usage.ru_maxrss
        with open(os.path.join(tree, HOST)) as handle:
            return seconds, int(recap.group(1)), json.load(handle)

    def module_runs(self):
        """(seconds, peak RSS KiB) of each module run logged by bench-python since the last call."""
        text = self.vm("cat /run/bench-module.log 2>/dev/null; rm -f /run/bench-module.log")
        return [(float(seconds), int(rss)) for seconds, rss in (line.split() for line in text.splitlines())]

    def saved_table(self):
        return self.vm("ipvsadm -Sn")


def operations(result):
    """(count, first three, answered from the record) of the table task's kernel operations."""
    return len(result["commands"]), result["commands"][:3], bool(result.get("memo_hit"))


def median(values):
    return sorted(values)[len(values) // 2]


def samples(values):
    """A log suffix naming every sample behind a median."""
    return " (median of %s)" % ", ".join("%.2f" % value for value in values) if len(values) > 1 else ""


def weight_changed(sample):
    """Samples of a one-weight change alternate: changed, back, changed... each one weight."""
    return sample % 2 == 0


def open_connection(lab, count):
    """Starts the long-lived client through the VIP; returns the kernel's entry for it."""
    lab.vm("rm -f /run/bench-conn.*")
    lab.vm("ip netns exec benchclient setsid python3 /run/bench-client.py %s %d </dev/null >/dev/null 2>&1 &"
           % (rules.VIP, rules.CONNECTION_PORT))
    state = wait_for_state(lab, ("connected",))
    if state != "connected":
        raise BenchError("N=%d: the long-lived connection did not open: %s" % (count, state))
    return lab.vm("ipvsadm -Lcn | grep -F '%s:%d' | grep ESTABLISHED" % (rules.VIP, rules.CONNECTION_PORT), check=False).strip()


def connection_fate(lab):
    """survived, or lost and why: the client echoes once more."""
    lab.vm("touch /run/bench-conn.go")
    return wait_for_state(lab, ("survived", "lost"))


def keepalived(lab, count, log, repeat):
    """keepalived owning the same table: from empty to all count rules, then one weight changed
    by reload repeat times (alternately changed and back) with a connection open, then stopped.

    keepalived.conf comes from the keepalived role's template (keepalived_conf.yml), both
    versions rendered before anything is timed; times and kernel operations are taken in the VM
    (vm_keepalived.py).
    """
    extra = {"ka_render_s": []}
    for changed in (False, True):
        seconds = lab.playbook("keepalived_conf.yml", count, weight_changed=changed, keepalived=True,
                               extra_vars={"bench_keepalived_conf": keepalived_conf(changed)})[0]
        extra["ka_render_s"].append(seconds)
    helper = "BENCH_TIMEOUT=%d python3 /run/bench-keepalived.py" % (600 + count // 20)
    lab.vm("bench-fresh-ipvs; install -m 0640 %s %s" % (keepalived_conf(False), CONF))
    start = json.loads(lab.vm(helper + " start %d" % count))
    extra["ka_start"] = start
    # keepalived adds in its own order: the same rules, listed perhaps in another order.
    if sorted(lab.saved_table().splitlines()) != sorted(rules.restore_lines(count).splitlines()):
        raise BenchError("N=%d: the table keepalived programmed differs from the one ipvsadm-restore loads" % count)
    log("N=%d keepalived start: all rules in the kernel after %.2f s, READY after %.2f s, %d kernel operations; PSS %d KiB, peak RSS %s KiB"
        % (count, start["seconds"], start["ready_s"], start["ops"], start["pss_kib"], start["peak_rss_kib"]))

    extra["ka_connection_entry"] = open_connection(lab, count)
    extra["ka_reloads"] = []
    service = "%s:%d" % (rules.VIP, rules.CONNECTION_PORT)
    address = rules.CHANGED_REAL_SERVER[0]
    for sample in range(repeat):
        changed = weight_changed(sample)
        weight = rules.CHANGED_WEIGHT if changed else dict(rules.real_servers(rules.CONNECTION_PORT))[address]
        lab.vm("install -m 0640 %s %s" % (keepalived_conf(changed), CONF))
        extra["ka_reloads"].append(json.loads(lab.vm(helper + " reload %s %s %d" % (service, address, weight))))
    extra["ka_connection"] = connection_fate(lab)
    reloads = extra["ka_reloads"]
    log("N=%d keepalived reload, one weight: in the kernel after %.2f s%s, reload done after %.2f s%s; kernel operations %s, sync daemon %s;"
        " connection %s; PSS %d KiB, peak RSS %s KiB"
        % (count, median([r["seconds"] for r in reloads]), samples([r["seconds"] for r in reloads]),
           median([r["done_s"] for r in reloads]), samples([r["done_s"] for r in reloads]),
           [r["ops"] for r in reloads], [r["sync_daemon_ops"] for r in reloads], extra["ka_connection"],
           reloads[-1]["pss_kib"], reloads[-1]["peak_rss_kib"]))
    extra["ka_stop"] = json.loads(lab.vm(helper + " stop"))
    log("N=%d keepalived stopped and the table emptied in %.2f s" % (count, extra["ka_stop"]["seconds"]))
    columns = dict(
        ka_start_s=start["seconds"], ka_reload_s=median([r["done_s"] for r in reloads]),
        ka_reload_weight_s=median([r["seconds"] for r in reloads]), ka_reload_ops=max(r["ops"] for r in reloads),
        ka_connection=extra["ka_connection"],
        ka_peak_rss_mib=max(max(r["peak_rss_kib"]) for r in reloads + [start]) / 1024.0,
    )
    return columns, extra


def keepalived_conf(changed):
    return "/run/bench-keepalived-%s.conf" % ("changed" if changed else "base")


def restore_floor(lab, count, log, repeat):
    """(a), timed inside the VM so no SSH round trip is counted. It also proves the kernel
    counter: the flush ipvsadm-restore starts with and each restored line are one operation each."""
    extra = {"restore_samples_s": []}
    lines = rules.restore_lines(count)
    lab.vm("cat > /run/bench.rules", stdin=lines)
    for dummy in range(repeat):
        output = lab.vm("bench-fresh-ipvs; o=$(bench-ipvs-ops); s=$(date +%s%N); ipvsadm-restore < /run/bench.rules; e=$(date +%s%N);"
                        " echo $(( (e - s) / 1000000 )) $o $(bench-ipvs-ops)").split()
        extra["restore_samples_s"].append(int(output[0]) / 1000.0)
        ops = int(output[3]) - int(output[1])
        # ipvsadm-restore flushes the table (ipvsadm -C) before it adds each line.
        if ops != 1 + len(lines.splitlines()):
            raise BenchError("N=%d: the kernel counted %d operations for a flush and %d restored lines: the counter does not work"
                             % (count, ops, len(lines.splitlines())))
    if lab.saved_table() != lines:
        raise BenchError("N=%d: ipvsadm-restore loaded a table that ipvsadm -Sn prints differently" % count)
    log("N=%d (a) ipvsadm-restore %.2f s%s, %d kernel operations"
        % (count, median(extra["restore_samples_s"]), samples(extra["restore_samples_s"]), ops))
    return median(extra["restore_samples_s"]), extra


def converge(lab, count, log, repeat):
    """(b) from empty, as a user runs it; then the same again through bench-python, for the
    module's own time and RSS in the VM."""
    extra = {"converge_samples_s": []}
    expected = rules.restore_lines(count)
    for dummy in range(repeat):
        lab.vm("bench-fresh-ipvs; rm -f %s" % MEMO_PATH)
        before = lab.kernel_ops()
        seconds, dummy, output = lab.playbook(lab.converge, count)
        extra["converge_kernel_ops"] = lab.kernel_ops() - before
        extra["converge_samples_s"].append(seconds)
        if lab.saved_table() != expected:
            raise BenchError("N=%d: the converged table differs from the one ipvsadm-restore loads" % count)
    extra["converge_ops"] = operations(output)[0]
    extra["converge_controller_rss_kib"] = lab.controller_rss_kib
    lab.vm("bench-fresh-ipvs; rm -f %s /run/bench-module.log" % MEMO_PATH)
    extra["converge_measured_s"] = lab.playbook(lab.converge, count, measured_python=True)[0]
    extra["converge_module"] = lab.module_runs()
    log("N=%d (b) converge %.2f s%s, %d operations (%d counted by the kernel); module in the VM (s, KiB) %s in a further run of %.2f s through bench-python"
        % (count, median(extra["converge_samples_s"]), samples(extra["converge_samples_s"]), extra["converge_ops"],
           extra["converge_kernel_ops"], extra["converge_module"], extra["converge_measured_s"]))
    return median(extra["converge_samples_s"]), extra


def noop(lab, count, log, repeat):
    """(c) as a user runs it. The action answers it from the module's record without starting
    the module in the VM (noop_from_record). Every run must change nothing."""
    extra = {"noop_samples_s": [], "noop_ops": 0, "noop_from_record": True}
    noop_changed = 0
    for dummy in range(repeat):
        seconds, changed, output = lab.playbook(lab.converge, count)
        ops, dummy, from_record = operations(output)
        extra["noop_samples_s"].append(seconds)
        noop_changed, extra["noop_ops"] = max(noop_changed, changed), max(extra["noop_ops"], ops)
        extra["noop_from_record"] = extra["noop_from_record"] and from_record
    extra["noop_controller_rss_kib"] = lab.controller_rss_kib
    log("N=%d (c) no-op %.2f s%s, changed=%d, %d operations (the most of any run); answered from the record without the module: %s"
        % (count, median(extra["noop_samples_s"]), samples(extra["noop_samples_s"]), noop_changed, extra["noop_ops"],
           extra["noop_from_record"]))
    return median(extra["noop_samples_s"]), noop_changed, extra


def one_weight(lab, count, log, repeat):
    """(d) one weight, repeat times (alternately changed and back), as a user runs it, with a
    connection open through the same service to another real server; kernel operations counted
    by the kernel, beside the task's own commands."""
    extra = {"weight_samples_s": [], "weight_kernel_ops": [], "weight_commands": []}
    extra["connection_entry"] = open_connection(lab, count)
    for sample in range(repeat):
        before = lab.kernel_ops()
        seconds, dummy, output = lab.playbook(lab.converge, count, weight_changed=weight_changed(sample))
        extra["weight_kernel_ops"].append(lab.kernel_ops() - before)
        extra["weight_samples_s"].append(seconds)
        extra["weight_commands"].append(output["commands"])
    extra["connection"] = connection_fate(lab)
    log("N=%d (d) one weight: %.2f s%s, kernel operations %s, the task's commands %s; connection %s (%s)"
        % (count, median(extra["weight_samples_s"]), samples(extra["weight_samples_s"]), extra["weight_kernel_ops"],
           extra["weight_commands"], extra["connection"], extra["connection_entry"]))
    return median(extra["weight_samples_s"]), max(extra["weight_kernel_ops"]), extra


def measure(lab, count, log, repeat=1):
    """keepalived's steps, then (a) to (d), on count rules: the row of the table and the details behind it.

    Each step runs repeat times and reports the median: on a shared host one run of the same
    converge can differ from the next by several seconds (docs/performance.md).
    """
    row, extra = keepalived(lab, count, log, repeat)
    row["rules"] = count
    row["restore_s"], more = restore_floor(lab, count, log, repeat)
    extra.update(more)
    # The Ansible floor is sampled beside the steps it judges, one sample before each of (b),
    # (c) and (d): the load of a shared host changes within minutes, and a floor measured at
    # the start of a long run judged later steps against another machine.
    floor = [ansible_floor(lab)]
    row["converge_s"], more = converge(lab, count, log, repeat)
    extra.update(more)
    floor.append(ansible_floor(lab))
    row["noop_s"], row["noop_changed"], more = noop(lab, count, log, repeat)
    extra.update(more)
    floor.append(ansible_floor(lab))
    row["one_weight_s"], row["one_weight_changes"], more = one_weight(lab, count, log, repeat)
    extra.update(more)
    extra["floor_samples_s"] = floor
    row["ansible_floor_s"] = median(floor)
    log("N=%d Ansible floor beside (b), (c) and (d): %.2f s%s" % (count, row["ansible_floor_s"], samples(floor)))
    extra["module_peak_rss_kib"] = max(rss for seconds, rss in extra["converge_module"]) if extra["converge_module"] else None
    lab.vm("ipvsadm -C")
    row["loop_s"] = None
    return row, extra


def ansible_floor(lab):
    """One sample of Ansible's own cost on the VM: a play with one ping task."""
    return lab.playbook("floor.yml", 0)[0]


def naive_loop(lab, log):
    """(e) one task per rule from empty, with the usual interpreter; run last, it is the slowest."""
    lab.vm("ipvsadm -C")
    seconds, dummy, output = lab.playbook("loop.yml", LOOP_SIZE)
    expected = rules.restore_lines(LOOP_SIZE)
    if lab.saved_table() != expected:
        raise BenchError("the naive loop built a different table")
    log("N=%d (e) naive loop %.2f s" % (LOOP_SIZE, seconds))
    lab.vm("ipvsadm -C")
    return seconds


def profile(lab, count, log):
    """cProfile of one ipvs_table run converging count rules from empty, inside the VM.

    The module is kept on the VM (no pipelining, ANSIBLE_KEEP_REMOTE_FILES) and exploded, so
    what runs under the profiler is exactly what Ansible runs, arguments included. Each run
    starts from an empty table and no record (an unchanged run does not start the module).
    """
    reset = "ipvsadm -C && rm -f %s" % MEMO_PATH
    lab.vm(reset + "; rm -rf /root/.ansible/tmp")
    os.environ.update(ANSIBLE_PIPELINING="False", ANSIBLE_KEEP_REMOTE_FILES="1")
    try:
        seconds, changed, dummy = lab.playbook(lab.converge, count)
    finally:
        del os.environ["ANSIBLE_PIPELINING"], os.environ["ANSIBLE_KEEP_REMOTE_FILES"]
    log("N=%d converge playbook %.2f s, changed=%d" % (count, seconds, changed))
    log(lab.vm(
        "cd /root/.ansible/tmp/ansible-tmp-*/ && ls -l AnsiballZ_ipvs_table.py && python3 AnsiballZ_ipvs_table.py explode >/dev/null"
        " && cd debug_dir && ls -l args"
        " && s=$(date +%s%N) && python3 -c pass && e=$(date +%s%N) && echo python3 -c pass: $(( (e - s) / 1000000 )) ms"
        " && {reset} && s=$(date +%s%N) && PYTHONPATH=. python3 ansible_collections/lvs/topology/plugins/modules/ipvs_table.py args >/dev/null"
        " && e=$(date +%s%N) && echo module run: $(( (e - s) / 1000000 )) ms"
        " && {reset} && PYTHONPATH=. python3 -X importtime ansible_collections/lvs/topology/plugins/modules/ipvs_table.py args 2>&1 >/dev/null"
        " | sort -t'|' -k2 -n | tail -12"
        " && {reset} && PYTHONPATH=. python3 -m cProfile -s cumtime ansible_collections/lvs/topology/plugins/modules/ipvs_table.py args"
        " | grep -A45 'Ordered by'".format(reset=reset)))


def wait_for_state(lab, wanted, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = lab.vm("cat /run/bench-conn.state 2>/dev/null", check=False).strip()
        if state.startswith(wanted):
            return state
        time.sleep(1)
    return "no answer within %d s" % timeout


def table(rows):
    lines = ["| " + " | ".join(heading for key, heading in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(cell(row[key]) for key, heading in COLUMNS) + " |")
    return "\n".join(lines)


def cell(value):
    if value is None:
        return "-"
    return "%.2f" % value if isinstance(value, float) else str(value)


def verdict(met):
    return "met" if met else "MISSED"


def goals(rows, details):
    """Each goal judged on this run's medians, against the floor measured beside it at the same
    N: lines to print. The goals hold at GOAL_SIZE; the same sums are shown at every N for
    comparison."""
    lines = []
    for row, detail in zip(rows, details):
        floor = row["ansible_floor_s"]
        where = "N=%d%s" % (row["rules"], " (goal)" if row["rules"] == GOAL_SIZE else " (for comparison)")
        allowance = row["restore_s"] + floor + 1.5
        lines.append("%s (b) %.2f s <= (a) + floor + 1.5 s = %.2f s: %s"
                     % (where, row["converge_s"], allowance, verdict(row["converge_s"] <= allowance)))
        lines.append("%s (c) %.2f s <= floor %.2f s with 0 changed (changed=%d): %s"
                     % (where, row["noop_s"], floor, row["noop_changed"], verdict(row["noop_s"] <= floor and not row["noop_changed"])))
        met = (set(detail["weight_kernel_ops"]) == {1} and row["one_weight_s"] <= floor + 1 and detail["connection"] == "survived")
        lines.append("%s (d) kernel operations %s, %.2f s <= floor + 1 s = %.2f s, connection %s: %s"
                     % (where, detail["weight_kernel_ops"], row["one_weight_s"], floor + 1, detail["connection"], verdict(met)))
    by_size = dict((row["rules"], (row, detail)) for row, detail in zip(rows, details))
    largest = max(by_size)
    if largest > GOAL_SIZE and GOAL_SIZE in by_size:
        lines.extend(growth(by_size[GOAL_SIZE], by_size[largest]))
    elif largest > GOAL_SIZE:
        lines.append("growth: not judged, N=%d was not measured" % GOAL_SIZE)
    if by_size[largest][1]["module_peak_rss_kib"] is None:
        return lines + ["N=%d module peak RSS: not measured" % largest]
    module_mib = by_size[largest][1]["module_peak_rss_kib"] / 1024.0
    lines.append("N=%d module peak RSS %.1f MiB < %d MiB: %s" % (largest, module_mib, MODULE_RSS_GOAL_MIB, verdict(module_mib < MODULE_RSS_GOAL_MIB)))
    return lines


def growth(small, large):
    """Per-rule cost at the largest N against GOAL_SIZE: a ratio near 1 or below is linear (the
    fixed costs shrink per rule), a quadratic step shows as about large / small."""
    (row, detail), (big_row, big_detail) = small, large
    ratio = float(big_row["rules"]) / row["rules"]
    lines = []
    # (name, key, judged): the module's time and memory are the goal; the rest is shown.
    measures = [("(a) restore", "restore_s", False), ("(b) converge", "converge_s", True), ("(c) no-op", "noop_s", False),
                ("(d) one weight", "one_weight_s", False), ("keepalived start", "ka_start_s", False),
                ("keepalived reload", "ka_reload_s", False), ("keepalived peak RSS", "ka_peak_rss_mib", False)]
    for name, key, judged in measures:
        lines.append(growth_line(name, row[key], big_row[key], ratio, row["rules"], big_row["rules"], judged))
    lines.append(growth_line("module peak RSS", detail["module_peak_rss_kib"], big_detail["module_peak_rss_kib"], ratio,
                             row["rules"], big_row["rules"]))
    return lines


def growth_line(name, small, large, ratio, small_n, large_n, judged=True):
    if not small or large is None:
        return "N=%d vs %d: %s not compared (%s, %s)" % (large_n, small_n, name, small, large)
    per_rule = (large / large_n) / (small / small_n)
    text = "N=%d vs %d: %s grew %.2fx for %.0fx the rules, %.2fx per rule" % (large_n, small_n, name, large / small, ratio, per_rule)
    if judged:
        text += " (linear: at most %.1fx per rule): %s" % (LINEAR_RATIO, verdict(per_rule <= LINEAR_RATIO))
    return text


def write_results(args, rows, details):
    """Rewritten after every step, so an interrupted run keeps what it measured."""
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)
    if args.details:
        with open(args.details, "w") as handle:
            json.dump({"sizes": details}, handle, indent=1)


def main():
    started = time.monotonic()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--instance", default="bench")
    parser.add_argument("--sizes", default="100,1000,5000,20000,50000")
    parser.add_argument("--json", help="write the rows as a JSON list here")
    parser.add_argument("--details", help="write the per-step details (module time and RSS, operations) here")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step, their median reported (odd)")
    parser.add_argument("--converge", default="converge.yml", help="the playbook of steps b-d (converge_list.yml: config as a list)")
    parser.add_argument("--profile", type=int, metavar="N", help="instead of the bench: profile an ipvs_table converge from empty on N rules in the VM")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    def log(text):
        print("bench: " + text, flush=True)

    lab = Lab(args.instance, args.converge)
    lab.prepare()
    if args.profile:
        profile(lab, args.profile, log)
        return 0
    rows, details = [], []
    for count in [int(size) for size in args.sizes.split(",")]:
        row, extra = measure(lab, count, log, args.repeat)
        rows.append(row)
        details.append(dict(row, **extra))
        write_results(args, rows, details)
    for row, detail in zip(rows, details):
        if row["rules"] == LOOP_SIZE:
            row["loop_s"] = detail["loop_s"] = naive_loop(lab, log)
            write_results(args, rows, details)
    print(table(rows))
    for line in goals(rows, details):
        log(line)
    for warning in lab.vm("cat /run/bench-warnings 2>/dev/null", check=False).splitlines():
        log("WARNING: " + warning)
    log("wall time of the measurements: %.0f s" % (time.monotonic() - started))
    lost = ["N=%d %s" % (detail["rules"], step) for detail in details
            for step, fate in (("(d)", detail["connection"]), ("keepalived reload", detail["ka_connection"])) if fate != "survived"]
    if lost:
        log("connection lost: %s" % ", ".join(lost))
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print("bench: FAILED: %s" % error, file=sys.stderr)
        sys.exit(1)

# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench: IPVS table convergence against the ipvsadm-restore floor, on a running lab.

For each N (real-server rules), in one VM: (a) ipvsadm-restore from empty, (b) the
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
COLUMNS = ("rules", "restore_s", "converge_s", "noop_s", "noop_changed", "one_weight_changes", "loop_s")


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

    def playbook(self, name, count, weight_changed=False, measured_python=False):
        """Run tests/bench/<name> on the table of count rules; return (seconds, changed tasks, last result).

        ansible-core's tree callback writes the host's last task result to a file, so no extra
        task has to report it. measured_python runs modules through bench-python (their time
        and RSS in the VM, one more Python start): never for a timed step.
        """
        rules.write_vars(self.group_vars, count, weight_changed)
        argv = ["ansible-playbook", "-i", self.inventory, os.path.join(HERE, name)]
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


def measure(lab, count, log, repeat=1):
    """Steps (a) to (d) on count rules: the row of the table and the details behind it.

    (a), (b) and (c) run repeat times and report the median: on a shared host one run of the
    same converge can differ from the next by several seconds (docs/performance.md).
    """
    extra = {}
    lab.vm("cat > /run/bench.rules", stdin=rules.restore_lines(count))
    # (a) the floor, timed inside the VM so no SSH round trip is counted.
    extra["restore_samples_s"] = []
    for dummy in range(repeat):
        floor = lab.vm("ipvsadm -C; s=$(date +%s%N); ipvsadm-restore < /run/bench.rules; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))")
        extra["restore_samples_s"].append(int(floor.strip()) / 1000.0)
    restore_s = median(extra["restore_samples_s"])
    expected = lab.saved_table()
    if len(expected.splitlines()) != count + count // rules.REAL_SERVERS_PER_SERVICE:
        raise BenchError("ipvsadm-restore loaded %d lines, not %d" % (len(expected.splitlines()), count * 5 // 4))
    log("N=%d (a) ipvsadm-restore %.2f s%s" % (count, restore_s, samples(extra["restore_samples_s"])))

    # (b) from empty, as a user runs it; then the same again through bench-python, for the
    # module's own time and RSS in the VM.
    extra["converge_samples_s"] = []
    for dummy in range(repeat):
        lab.vm("ipvsadm -C; rm -f %s" % MEMO_PATH)
        seconds, dummy, output = lab.playbook(lab.converge, count)
        extra["converge_samples_s"].append(seconds)
        if lab.saved_table() != expected:
            raise BenchError("N=%d: the converged table differs from the one ipvsadm-restore loads" % count)
    converge_s = median(extra["converge_samples_s"])
    extra["converge_ops"] = operations(output)[0]
    extra["converge_controller_rss_kib"] = lab.controller_rss_kib
    lab.vm("ipvsadm -C; rm -f %s /run/bench-module.log" % MEMO_PATH)
    extra["converge_measured_s"] = lab.playbook(lab.converge, count, measured_python=True)[0]
    extra["converge_module"] = lab.module_runs()
    log("N=%d (b) converge %.2f s%s, %d operations; module in the VM (s, KiB) %s in a further run of %.2f s through bench-python"
        % (count, converge_s, samples(extra["converge_samples_s"]), extra["converge_ops"], extra["converge_module"],
           extra["converge_measured_s"]))
    # (c) as a user runs it. The action answers it from the module's record without starting
    # the module in the VM (noop_from_record). Every run must change nothing.
    extra["noop_samples_s"], noop_changed, extra["noop_ops"], extra["noop_from_record"] = [], 0, 0, True
    for dummy in range(repeat):
        seconds, changed, output = lab.playbook(lab.converge, count)
        ops, dummy, from_record = operations(output)
        extra["noop_samples_s"].append(seconds)
        noop_changed, extra["noop_ops"] = max(noop_changed, changed), max(extra["noop_ops"], ops)
        extra["noop_from_record"] = extra["noop_from_record"] and from_record
    noop_s = median(extra["noop_samples_s"])
    extra["noop_controller_rss_kib"] = lab.controller_rss_kib
    log("N=%d (c) no-op %.2f s%s, changed=%d, %d operations (the most of any run); answered from the record without the module: %s"
        % (count, noop_s, samples(extra["noop_samples_s"]), noop_changed, extra["noop_ops"], extra["noop_from_record"]))

    # (d) one weight, with a connection open through the same service to another real server.
    with open(os.path.join(HERE, "vm_client.py")) as handle:
        lab.vm("rm -f /run/bench-conn.*; cat > /run/bench-client.py", stdin=handle.read())
    lab.vm("ip netns exec benchclient setsid python3 /run/bench-client.py %s %d </dev/null >/dev/null 2>&1 &"
           % (rules.VIP, rules.CONNECTION_PORT))
    state = wait_for_state(lab, ("connected",))
    if state != "connected":
        raise BenchError("N=%d: the long-lived connection did not open: %s" % (count, state))
    entry = lab.vm("ipvsadm -Lcn | grep -F '%s:%d' | grep ESTABLISHED" % (rules.VIP, rules.CONNECTION_PORT), check=False).strip()
    extra["weight_s"], dummy, output = lab.playbook(lab.converge, count, weight_changed=True, measured_python=True)
    weight_ops, extra["weight_commands"], dummy = operations(output)
    lab.vm("touch /run/bench-conn.go")
    extra["connection"] = wait_for_state(lab, ("survived", "lost"))
    extra["connection_entry"] = entry
    extra["weight_module"] = lab.module_runs()
    log("N=%d (d) one weight: %.2f s, %d operation(s) %s; connection %s (%s)"
        % (count, extra["weight_s"], weight_ops, extra["weight_commands"], extra["connection"], entry))

    lab.vm("ipvsadm -C")
    row = dict(rules=count, restore_s=restore_s, converge_s=converge_s, noop_s=noop_s, noop_changed=noop_changed,
               one_weight_changes=weight_ops, loop_s=None)
    return row, extra


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
    header = "| N rules | (a) restore s | (b) converge s | (c) no-op s | no-op changed | (d) weight ops | (e) loop s |"
    lines = [header, "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(cell(row[key]) for key in COLUMNS) + " |")
    return "\n".join(lines)


def cell(value):
    if value is None:
        return "-"
    return "%.2f" % value if isinstance(value, float) else str(value)


def write_results(args, rows, details, floor):
    """Rewritten after every step, so an interrupted run keeps what it measured."""
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)
    if args.details:
        with open(args.details, "w") as handle:
            json.dump({"ansible_floor_s": floor, "sizes": details}, handle, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--instance", default="bench")
    parser.add_argument("--sizes", default="100,1000,5000,20000")
    parser.add_argument("--json", help="write the rows as a JSON list here")
    parser.add_argument("--details", help="write the per-step details (module time and RSS, operations) here")
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a), (b) and (c) each, their median reported (odd)")
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
    floor = sorted(lab.playbook("floor.yml", 0)[0] for dummy in range(3))
    log("Ansible floor, one ping task on this VM: %.2f s (median of 3; %.2f-%.2f s)" % (median(floor), floor[0], floor[-1]))
    rows, details = [], []
    for count in [int(size) for size in args.sizes.split(",")]:
        row, extra = measure(lab, count, log, args.repeat)
        rows.append(row)
        details.append(dict(row, **extra))
        write_results(args, rows, details, floor)
    for row, detail in zip(rows, details):
        if row["rules"] == LOOP_SIZE:
            row["loop_s"] = detail["loop_s"] = naive_loop(lab, log)
            write_results(args, rows, details, floor)
    print(table(rows))
    lost = [detail for detail in details if detail["connection"] != "survived"]
    if lost:
        log("connection lost at N=%s" % ", ".join(str(detail["rules"]) for detail in lost))
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print("bench: FAILED: %s" % error, file=sys.stderr)
        sys.exit(1)

# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ansible-playbook costs the controller for the bench's table task, without a VM.

    .venv/bin/python tests/bench/controller.py prepare 5000 50000
    .venv/bin/python tests/bench/controller.py time 5000        # ansible-playbook, step by step
    .venv/bin/python tests/bench/controller.py action 5000      # the filter and the action, in-process

--collections DIR measures the collection found there instead of this checkout's (another
checkout linked as DIR/ansible_collections/lvs/topology).

prepare writes, per N, .build/controller/N/: an inventory of one director on the local
connection with lvs_virtual_services in group_vars/directors.json, written by
rules.write_vars as bench.py writes it; the same with the one weight (d) changes (changed/);
the same without group_vars (small/); and the index the host's record would hold after the
table converged. time runs each step's ansible-playbook RUNS times after one warm-up and
prints the median wall and CPU seconds (ansible-playbook and its children):

    start      a play without tasks, small inventory: ansible-playbook starting and stopping
    floor      floor.yml (one ping, its module run here on the local connection), small inventory
    inventory  floor.yml with the table in group_vars: the same plus loading the table
    template   converge.yml's expression templated into a debug of its length
    noop       converge.yml's task, the host's record answering (c) a no-op rerun
    weight     the same after (d) one weight changed

noop and weight run ipvs_table's own action plugin but for the host: the record check's
command is answered with what a host holding the record would print, and the module run (d)
sends is not made. So they count all the controller does for the task, but none of the
host's work nor the connection's. action times the parts in one process: the group_vars file
loaded as ansible-playbook loads it, the expression templated by Ansible from it, the filter
alone on plain data, and the action's own work for (c), the run key, and for (d), the changed
items found from the index.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import rules  # noqa: E402

WORKDIR = os.path.join(ROOT, ".build", "controller")
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
DIRECTOR = "director"
# The live table's digest the record names: any will do, the host's answer is made up alike.
TABLE_DIGEST = "0" * 64
EXPRESSION = "lvs_virtual_services | lvs.topology.lvs_ipvs_config(hostvars, director_hosts, as_json=true)"
TASKS = {
    "start.yml": [],
    "template.yml": [{"name": "Template the config", "ansible.builtin.debug": {"msg": "{{ %s | length }}" % EXPRESSION}}],
    "converge.yml": [{"name": "Program the IPVS table", "hostless_ipvs_table": {"config": "{{ %s }}" % EXPRESSION, "state": "overridden"}}],
}
# ipvs_table's action plugin with the host's part made up (see hostless_ipvs_table).
ACTION_PLUGIN = "import sys\nsys.path.insert(0, %r)\nfrom controller import hostless_ipvs_table\nActionModule = hostless_ipvs_table()\n" % HERE
# (step, playbook, inventory: small, big or changed)
STEPS = (("start", "start.yml", "small"), ("floor", os.path.join(HERE, "floor.yml"), "small"),
         ("inventory", os.path.join(HERE, "floor.yml"), "big"), ("template", "template.yml", "big"),
         ("noop", "converge.yml", "big"), ("weight", "converge.yml", "changed"))


def inventory_dir(count, which):
    return os.path.join(WORKDIR, str(count), which)


def config_index_text(services):
    """The index the host's record holds once the config of these services has converged."""
    from ansible_collections.lvs.topology.plugins.filter.lvs_ipvs_config import lvs_ipvs_config
    from ansible_collections.lvs.topology.plugins.module_utils.ipvs.delta import config_index, item_digest
    from ansible_collections.lvs.topology.plugins.module_utils.ipvs.resource import config_items, desired_table

    items = config_items(lvs_ipvs_config(services, {DIRECTOR: {}}, [DIRECTOR], as_json=True))
    dummy, identities = desired_table(items, "deleted", {}, ["config[%d]" % position for position in range(len(items))])
    return json.dumps(config_index([item_digest(item) for item in items], identities), separators=(",", ":"))


def prepare(count):
    for which in ("small", "big", "changed"):
        os.makedirs(os.path.join(inventory_dir(count, which), "group_vars"), exist_ok=True)
        with open(os.path.join(inventory_dir(count, which), "inventory.yml"), "w") as handle:
            json.dump({"all": {"children": {"directors": {"hosts": {DIRECTOR: {
                "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}}, handle)
        if which != "small":
            rules.write_vars(os.path.join(inventory_dir(count, which), "group_vars", "directors.json"), count, which == "changed")
    with open(os.path.join(WORKDIR, str(count), "index.json"), "w") as handle:
        handle.write(config_index_text(rules.virtual_services(count)))
    for name, tasks in TASKS.items():
        with open(os.path.join(WORKDIR, name), "w") as handle:
            json.dump([{"name": name, "hosts": "directors", "gather_facts": False, "tasks": tasks,
                        "vars": {"director_hosts": "{{ groups['directors'] }}"}}], handle, indent=1)
    os.makedirs(os.path.join(WORKDIR, "action_plugins"), exist_ok=True)
    with open(os.path.join(WORKDIR, "action_plugins", "hostless_ipvs_table.py"), "w") as handle:
        handle.write(ACTION_PLUGIN)


def hostless_ipvs_table():
    """ipvs_table's action class, its record check answered as by a host whose record is of
    this very config when BENCH_STEP is noop, else of the config whose index is in BENCH_INDEX,
    its live table the recorded one either way; the module run it then sends is not made."""
    from ansible_collections.lvs.topology.plugins.action.ipvs_table import MODULE_PATH, SECTION, ActionModule
    from ansible_collections.lvs.topology.plugins.module_utils.ipvs.record import planning_key, text_digest

    class HostlessIpvsTable(ActionModule):
        def _low_level_execute_command(self, cmd, *args, **kwargs):
            with open(os.environ["BENCH_INDEX"]) as handle:
                index = handle.read()
            with open(MODULE_PATH, "rb") as handle:
                planning = planning_key(handle.read(), self._task.args["state"])
            if os.environ["BENCH_STEP"] == "noop":
                # The record of this very run (the key the command looks for): the host prints
                # the live table's digest.
                record = {"run": re.search(r'"run": "([0-9a-f]{64})"', cmd).group(1), "table": TABLE_DIGEST}
                return self._answer(record, "%s  -\n" % TABLE_DIGEST, "")
            # The record of another config: the host prints the index it names instead.
            record = {"run": "f" * 64, "table": TABLE_DIGEST, "planning": planning, "index": text_digest(index)}
            return self._answer(record, "", index)

        @staticmethod
        def _answer(record, digest, index):
            return {"rc": 0, "stdout": "%s\n%s\n%s%s\n%s" % (json.dumps(record), SECTION, digest, SECTION, index), "stderr": ""}

        def _execute_module(self, *args, **kwargs):
            return {"changed": True, "items_sent": len(json.loads(kwargs["module_args"]["config"]))}

    return HostlessIpvsTable


def run_playbook(count, step, playbook, which):
    """(wall, CPU) seconds of one ansible-playbook run (CPU: it and its children)."""
    env = dict(os.environ, BENCH_STEP=step, BENCH_INDEX=os.path.join(WORKDIR, str(count), "index.json"))
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
            os.path.join(inventory_dir(count, which), "inventory.yml"), os.path.join(WORKDIR, playbook)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    output = subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if step in ("noop", "weight") and "changed=%d" % (step == "weight") not in output:
        raise SystemExit("%s did not report the expected change:\n%s" % (step, output))
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def time_steps(count, runs):
    for step, playbook, which in STEPS:
        run_playbook(count, step, playbook, which)
        figures = [run_playbook(count, step, playbook, which) for dummy in range(runs)]
        print("N=%d %-9s wall %5.2f s  CPU %5.2f s  (median of %d, load %.2f)" % (
            count, step, statistics.median(wall for wall, cpu in figures), statistics.median(cpu for wall, cpu in figures),
            runs, os.getloadavg()[0]), flush=True)


def median_cpu(call, runs):
    """Median CPU seconds of call() over runs calls."""
    seconds = []
    for dummy in range(runs):
        started = time.process_time()
        call()
        seconds.append(time.process_time() - started)
    return statistics.median(seconds)


def group_vars(count):
    """The table's group_vars file as ansible-playbook's host_group_vars loads it."""
    from ansible.parsing.dataloader import DataLoader

    path = os.path.join(inventory_dir(count, "big"), "group_vars", "directors.json")
    try:
        return DataLoader().load_from_file(path, unsafe=True, trusted_as_template=True)
    except TypeError:  # ansible-core before 2.19: no trust to give
        return DataLoader().load_from_file(path, unsafe=True)


def action_parts(count, runs):
    """CPU seconds (median) of the group_vars load, the expression templated by Ansible, the
    filter on plain data, and the action's own work for (c), the run key, and for (d), the
    changed items found from the index."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible_collections.lvs.topology.plugins.action.ipvs_table import MODULE_PATH, config_text
    from ansible_collections.lvs.topology.plugins.filter.lvs_ipvs_config import lvs_ipvs_config
    from ansible_collections.lvs.topology.plugins.module_utils.ipvs.delta import delta_from_index
    from ansible_collections.lvs.topology.plugins.module_utils.ipvs.record import run_key
    from ansible_collections.lvs.topology.plugins.module_utils.ipvs.resource import config_items
    try:
        from ansible.template import trust_as_template
    except ImportError:  # ansible-core before 2.19 templates every string
        trust_as_template = str

    services, changed = rules.virtual_services(count), rules.virtual_services(count, weight_changed=True)
    with open(os.path.join(WORKDIR, str(count), "index.json")) as handle:
        index = json.load(handle)
    loaded = group_vars(count)
    expression = trust_as_template("{{ %s }}" % EXPRESSION)
    with open(MODULE_PATH, "rb") as handle:
        module_text = handle.read()
    text, changed_text = (lvs_ipvs_config(table, {}, [DIRECTOR], as_json=True) for table in (services, changed))

    def templated():
        variables = dict(loaded, hostvars={DIRECTOR: {}}, director_hosts=[DIRECTOR])
        return Templar(DataLoader(), variables=variables).template(expression)

    templated()
    parts = (("group_vars", lambda: group_vars(count)), ("templated", templated),
             ("filter", lambda: lvs_ipvs_config(services, {}, [DIRECTOR], as_json=True)),
             ("action (c)", lambda: run_key(module_text, "overridden", config_text(text))),
             ("action (d)", lambda: delta_from_index(config_items(config_text(changed_text)), index)))
    for name, call in parts:
        print("N=%d %-10s CPU %.3f s (median of %d)" % (count, name, median_cpu(call, runs), runs), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("prepare", "time", "action"))
    parser.add_argument("counts", type=int, nargs="+", metavar="N")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--collections", default=COLLECTIONS, help="the collections path to measure (default: this checkout's, "
                        "as make collection-link installs it)")
    args = parser.parse_args()
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.path.abspath(args.collections)
    if args.what != "time":
        from ansible.plugins.loader import init_plugin_loader

        init_plugin_loader([os.environ["ANSIBLE_COLLECTIONS_PATH"]])
    for count in args.counts:
        {"prepare": prepare, "time": lambda count: time_steps(count, args.runs), "action": lambda count: action_parts(count, args.runs)}[
            args.what](count)


if __name__ == "__main__":
    main()

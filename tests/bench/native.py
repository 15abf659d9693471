# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvs_table converging the bench's table from empty, natively: the module's own CPU, no VM.

Each sample is a fresh Python process, as every module run is. It imports the module from a
zip, as AnsiballZ does (so Ansible's module_utils and the collection's are compiled from
source, as on a stock host), runs its main() on the config the bench's converge.yml gives it
(lvs_ipvs_config(..., as_json=true) of tests/bench/rules.py's table, state overridden), with a
stand-in ipvsadm on PATH that lists an empty table and keeps the -R batch, and times the
imports, main() up to exit_json, and exit_json itself. The stand-in's own CPU is not counted.

    .venv/bin/python tests/bench/native.py [--rules 5000] [--repeat 5] [--profile]

--profile runs one more sample under cProfile and prints each phase's share of it.
"""

from __future__ import absolute_import, division, print_function

import argparse
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import rules

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
COLLECTION = "ansible_collections/lvs/topology"
MODULE = "ansible_collections.lvs.topology.plugins.modules.ipvs_table"
EMPTY_THRESHOLDS = os.path.join(ROOT, "tests", "unit", "fixtures", "ipvs", "thresholds_empty.txt")
STAND_IN_IPVSADM = """#!/bin/sh
case "$1" in
  -Sn) ;;
  -Ln) grep -v '^#' '%(thresholds)s' ;;
  -R) cat > '%(batch)s' ;;
  *) echo "stand-in ipvsadm: unexpected $*" >&2; exit 2 ;;
esac
"""
# What each phase of a profiled run is, as (file name, function name) whose cumulative time it is.
PHASES = (
    ("config decoded", "resource.py", "config_items"),
    ("planned: items checked and built", "resource.py", "desired_table"),
    ("planned: operations", "plan.py", "plan_operations"),
    ("rendered", "saveformat.py", "operation_line"),
    ("ipvsadm calls (run_command)", "basic.py", "run_command"),
    ("recorded", "ipvs_table.py", "report"),
    ("exit_json", "basic.py", "exit_json"),
)


def package_zip(path, root, only=None):
    """The module and the module_utils of Ansible and of the collection checked out at root in
    one zip, laid out as AnsiballZ lays it out; only: just these of their files, as AnsiballZ
    packs only what the module imports."""
    import ansible
    ansible_dir = os.path.dirname(ansible.__file__)
    # AnsiballZ's own stubs of the two ansible packages (module_common.py), not their real files.
    stub = "from pkgutil import extend_path\n__path__=extend_path(__path__,__name__)\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ansible/__init__.py", stub)
        archive.writestr("ansible/module_utils/__init__.py", stub)
        for part in ("", "/lvs", "/lvs/topology", "/lvs/topology/plugins", "/lvs/topology/plugins/modules",
                     "/lvs/topology/plugins/module_utils"):
            archive.writestr("ansible_collections%s/__init__.py" % part, "")
        trees = ((os.path.join(ansible_dir, "module_utils"), "ansible/module_utils"),
                 (os.path.join(root, "plugins", "module_utils"), COLLECTION + "/plugins/module_utils"))
        for source, target in trees:
            for directory, dummy, files in os.walk(source):
                for name in files:
                    relative = os.path.relpath(os.path.join(directory, name), source)
                    packed = target + "/" + relative
                    if name.endswith(".py") and relative != "__init__.py" and (only is None or packed in only):
                        archive.write(os.path.join(directory, name), packed)
        archive.write(os.path.join(root, "plugins", "modules", "ipvs_table.py"), COLLECTION + "/plugins/modules/ipvs_table.py")


def prepare(workdir, count, root):
    """The zip, the module's arguments and the stand-in ipvsadm, in workdir."""
    sys.path.insert(0, os.path.join(ROOT, ".build", "collections"))
    from ansible_collections.lvs.topology.plugins.filter.lvs_ipvs_config import lvs_ipvs_config
    package_zip(os.path.join(workdir, "module.zip"), root)
    config = lvs_ipvs_config(rules.virtual_services(count), {"director": {}}, ["director"], as_json=True)
    with open(os.path.join(workdir, "args.json"), "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": {"config": config, "state": "overridden", "_ansible_check_mode": False,
                                           "_ansible_diff": False, "_ansible_no_log": False}}, handle)
    bin_dir = os.path.join(workdir, "bin")
    os.mkdir(bin_dir)
    with open(os.path.join(bin_dir, "ipvsadm"), "w") as handle:
        handle.write(STAND_IN_IPVSADM % dict(thresholds=EMPTY_THRESHOLDS, batch=os.path.join(workdir, "batch")))
    os.chmod(os.path.join(bin_dir, "ipvsadm"), 0o755)
    package_zip(os.path.join(workdir, "module.zip"), root, only=run_sample(workdir)["packed"])


def clocks():
    return time.perf_counter(), time.process_time()


def sample(workdir, profile_path=None):
    """One run of the module in this process (a fresh one): its times, checked result and batch."""
    profiler = None
    if profile_path:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    marks = {"start": clocks()}
    sys.path.insert(0, os.path.join(workdir, "module.zip"))
    module = __import__(MODULE, fromlist=["main"])
    marks["imported"] = clocks()
    from ansible.module_utils import basic
    from ansible_collections.lvs.topology.plugins.module_utils import _host, _lock
    from ansible_collections.lvs.topology.plugins.module_utils.ipvs import host, record
    # The host as the lab VM is: ip_vs and its schedulers loaded; the lock and record in workdir.
    _host.kernel_module_loaded = lambda name: True
    host.IpvsHost.ipvs_present = lambda self: True
    _lock.LOCK_PATH = os.path.join(workdir, "lock")
    record.MEMO_PATH = os.path.join(workdir, "ipvs_table.memo")
    exit_json = basic.AnsibleModule.exit_json

    def timed_exit_json(*args, **kwargs):
        marks["exit_json"] = clocks()
        exit_json(*args, **kwargs)
    basic.AnsibleModule.exit_json = timed_exit_json
    sys.argv = ["ipvs_table.py", os.path.join(workdir, "args.json")]
    stdout, sys.stdout = sys.stdout, io.StringIO()
    status = None
    try:
        module.main()
    except SystemExit as done:
        status = done.code
    finally:
        printed, sys.stdout = sys.stdout.getvalue(), stdout
    marks["end"] = clocks()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_path)
    result = json.loads(printed)
    with open(os.path.join(workdir, "batch")) as handle:
        batch = handle.read().splitlines()
    if status != 0 or not result.get("changed") or batch != result["commands"]:
        raise SystemExit("the module did not converge the table: status %s, %s" % (status, printed[:2000]))

    def spent(first, last):
        return [marks[last][clock] - marks[first][clock] for clock in (0, 1)]
    archive = os.path.join(workdir, "module.zip") + os.sep
    packed = [loaded.__file__[len(archive):] for loaded in list(sys.modules.values())
              if (getattr(loaded, "__file__", None) or "").startswith(archive)]
    return dict(imports=spent("start", "imported"), main=spent("imported", "exit_json"),
                exit_json=spent("exit_json", "end"), total=spent("start", "end"), commands=len(batch), packed=packed)


def run_sample(workdir, profile_path=None):
    """One sample in a fresh interpreter, with the stand-in ipvsadm first on PATH."""
    for name in ("ipvs_table.memo", "ipvs_table.index", "batch"):
        if os.path.exists(os.path.join(workdir, name)):
            os.remove(os.path.join(workdir, name))
    argv = [sys.executable, os.path.abspath(__file__), "--sample", workdir] + (["--profile-to", profile_path] if profile_path else [])
    env = dict(os.environ, PATH=os.path.join(workdir, "bin") + os.pathsep + os.environ["PATH"], PYTHONDONTWRITEBYTECODE="1")
    output = subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(output)


def median(values):
    return sorted(values)[len(values) // 2]


def report_profile(path, profiled):
    stats = pstats.Stats(path)
    cumulative = {}
    for (filename, dummy, function), row in stats.stats.items():
        key = (os.path.basename(filename), function)
        cumulative[key] = cumulative.get(key, 0) + row[3]
    total = profiled["total"][0]
    print("\nProfiled run: %.2f s in all" % total)
    print("  %-34s %6.2f s  %5.1f %%" % ("imports", profiled["imports"][0], 100 * profiled["imports"][0] / total))
    for what, filename, function in PHASES:
        seconds = cumulative.get((filename, function), 0.0)
        print("  %-34s %6.2f s  %5.1f %%" % (what, seconds, 100 * seconds / total))
    print()
    stats.sort_stats("tottime").print_stats(25)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--rules", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5, help="samples, their median reported (odd)")
    parser.add_argument("--profile", action="store_true", help="one more sample under cProfile, with each phase's share")
    parser.add_argument("--checkout", default=ROOT, help="the collection's checkout whose module is measured (default: this one)")
    parser.add_argument("--sample", help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.sample:
        print(json.dumps(sample(options.sample, options.profile_to)))
        return
    workdir = tempfile.mkdtemp(prefix="ipvs-table-native-")
    try:
        prepare(workdir, options.rules, os.path.abspath(options.checkout))
        samples = [run_sample(workdir) for dummy in range(options.repeat)]
        print("ipvs_table of %s, %d rules from empty, %d lines: median of %d samples (wall s / CPU s), load %.2f" % (
            options.checkout, options.rules, samples[0]["commands"], len(samples), os.getloadavg()[0]))
        for phase in ("imports", "main", "exit_json", "total"):
            print("  %-10s %6.3f / %6.3f   (CPU of each: %s)" % (
                phase, median([s[phase][0] for s in samples]), median([s[phase][1] for s in samples]),
                ", ".join("%.3f" % s[phase][1] for s in samples)))
        if options.profile:
            profiled = run_sample(workdir, os.path.join(workdir, "profile"))
            report_profile(os.path.join(workdir, "profile"), profiled)
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()

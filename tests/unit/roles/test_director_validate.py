# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The director role's check of the scheduler modules (tasks/validate.yml): its command, run
here with a stand-in modinfo, and the sentence of its assert."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import subprocess

import yaml

from test_director_templates import ROLE, render_value


def tasks():
    with open(os.path.join(ROLE, "tasks", "validate.yml")) as handle:
        return dict((task["name"], task) for task in yaml.safe_load(handle))


def missing_modules(tmp_path, schedulers, present):
    """stdout_lines of the look-up task on a host whose modinfo knows only the modules present."""
    look_up = tasks()["Look for the kernel modules of the schedulers in use"]
    modinfo = tmp_path / "modinfo"
    modinfo.write_text("#!/bin/sh\nfor module do :; done\ncase \" %s \" in *\" $module \"*) ;; *) exit 1 ;; esac\n" % " ".join(present))
    modinfo.chmod(modinfo.stat().st_mode | stat.S_IEXEC)
    argv = render_value(look_up["ansible.builtin.command"]["argv"], _director_schedulers=schedulers,
                        _director_find_modules=look_up["vars"]["_director_find_modules"])
    environment = dict(os.environ, PATH="%s:%s" % (tmp_path, os.environ["PATH"]))
    return subprocess.run(argv, env=environment, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout.splitlines()


def test_the_look_up_prints_only_the_modules_the_kernel_lacks(tmp_path):
    assert missing_modules(tmp_path, ["wlc", "twos", "rr", "mh"], ["ip_vs_wlc", "ip_vs_rr"]) == ["ip_vs_twos", "ip_vs_mh"]
    assert missing_modules(tmp_path, ["wlc"], ["ip_vs_wlc"]) == []


def test_the_check_fails_with_one_sentence_per_missing_module():
    check = tasks()["Check that every director has the kernel module of each scheduler in use"]["ansible.builtin.assert"]
    message = render_value(check["fail_msg"], inventory_hostname="lvs1", _director_missing_modules={"stdout_lines": ["ip_vs_twos"]})
    assert message == [
        "Director lvs1 has no kernel module ip_vs_twos for the scheduler twos: choose another scheduler or a kernel that has it."]

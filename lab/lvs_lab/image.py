# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base image: its recipe's hash, the Debian mirror it is built from, the build and its cache."""
from __future__ import absolute_import, division, print_function

import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import time

from . import paths
from .paths import IMAGE_RECIPE_DIR
from .report import LabError, log, tail

__metaclass__ = type


def apt_mirror(apt_dir='/etc/apt'):
    """Return the Debian mirror apt already uses on this machine (deb822 or one-line style)."""
    if os.environ.get('LVS_LAB_MIRROR'):
        return os.environ['LVS_LAB_MIRROR']
    candidates = []
    for path in sorted(glob.glob(os.path.join(apt_dir, 'sources.list.d', '*.sources'))):
        with open(path) as handle:
            for stanza in re.split(r'\n\s*\n', handle.read()):
                fields = {}
                for line in stanza.splitlines():
                    if line.startswith('#') or ':' not in line or line[0].isspace():
                        continue
                    key, value = line.split(':', 1)
                    fields[key.strip().lower()] = value.split()
                if 'deb' in fields.get('types', []) and fields.get('enabled', ['yes'])[0] != 'no':
                    candidates += [(uri, suite) for uri in fields.get('uris', []) for suite in fields.get('suites', [])]
    for path in [os.path.join(apt_dir, 'sources.list')] + sorted(glob.glob(os.path.join(apt_dir, 'sources.list.d', '*.list'))):
        if os.path.isfile(path):
            with open(path) as handle:
                for line in handle:
                    words = re.sub(r'\[[^]]*\]', '', line.split('#', 1)[0]).split()
                    if len(words) >= 3 and words[0] == 'deb':
                        candidates.append((words[1], words[2]))
    for uri, suite in candidates:
        # The main archive carries the plain suite (bookworm); -security/-updates mirrors do not.
        if '-' not in suite and not uri.rstrip('/').endswith('-security'):
            return uri
    raise LabError('no Debian mirror found in %s/sources.list or %s/sources.list.d; set LVS_LAB_MIRROR to one' % (apt_dir, apt_dir))


def recipe_hash():
    """Hash of everything that shapes the base image: rebuilding is needed only when it changes."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(IMAGE_RECIPE_DIR):
        # pip byte-compiles the rootfs's Python files when it installs the lab: the caches it
        # writes are not part of the recipe, so an installed lab builds the same image.
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        for filename in sorted(files):
            path = os.path.join(root, filename)
            executable = b'x' if os.access(path, os.X_OK) else b'-'
            digest.update(os.path.relpath(path, IMAGE_RECIPE_DIR).encode() + executable + b'\0')
            with open(path, 'rb') as handle:
                digest.update(handle.read() + b'\0')
    return digest.hexdigest()[:16]


def image_dir():
    return os.path.join(paths.STATE_ROOT, 'images', recipe_hash())


def ensure_image(quiet_when_cached=False):
    target = image_dir()
    if os.path.isfile(os.path.join(target, 'base.raw')):
        if not quiet_when_cached:
            log('image: %s is up to date (recipe %s)' % (target, os.path.basename(target)))
        return target
    if os.geteuid() != 0:
        raise LabError('building the base image needs root (debootstrap, chroot); run `%s image` as root once' % paths.COMMAND)
    for tool in ('debootstrap', 'mkfs.ext4', 'chroot'):
        if not shutil.which(tool):
            raise LabError('%s is not installed; the image build needs debootstrap and e2fsprogs' % tool)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(os.path.join(os.path.dirname(target), '.build.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(os.path.join(target, 'base.raw')):
            return target
        mirror = apt_mirror()
        log('image: building recipe %s from the mirror apt uses (%s) ...' % (os.path.basename(target), mirror))
        started = time.monotonic()
        build_log = target + '.log'
        with open(build_log, 'w') as output:
            result = subprocess.run(['sh', os.path.join(IMAGE_RECIPE_DIR, 'build.sh'), target, mirror],
                                    stdout=output, stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0:
            raise LabError('image build failed (exit %d); last lines of %s:\n%s' % (result.returncode, build_log, tail(build_log, 25)))
        log('image: built in %.0f s -> %s' % (time.monotonic() - started, target))
    for old in glob.glob(os.path.join(os.path.dirname(target), '*')):
        if os.path.isdir(old) and old != target and not _image_in_use(old):
            shutil.rmtree(old, ignore_errors=True)
            if os.path.isfile(old + '.log'):
                os.unlink(old + '.log')
    return target


def _image_in_use(path):
    for state_file in glob.glob(os.path.join(paths.STATE_ROOT, '*', 'state.json')):
        with open(state_file) as handle:
            if json.load(handle).get('image') == path:
                return True
    return False

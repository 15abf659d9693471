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
from .instance import host_images
from .paths import IMAGE_RECIPE_DIR
from .report import LabError, log, tail
from .topology import RELEASES

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


def chosen_release(requested=None):
    """The instance's release: the one asked for, else $LVS_LAB_RELEASE, else the first of RELEASES."""
    release = requested or os.environ.get('LVS_LAB_RELEASE') or RELEASES[0]
    if release not in RELEASES:
        raise LabError('release %r is not one the lab builds an image of: %s' % (release, ', '.join(RELEASES)))
    return release


def image_packages(release):
    """The packages of packages.txt for a release: a line's first word, or its RELEASE=PACKAGE."""
    packages = []
    with open(os.path.join(IMAGE_RECIPE_DIR, 'packages.txt')) as handle:
        for line in handle:
            words = line.split('#', 1)[0].split()
            if not words:
                continue
            package = words[0]
            for substitution in words[1:]:
                other_release, dummy, other_package = substitution.partition('=')
                if other_release not in RELEASES or not other_package:
                    raise LabError('packages.txt: %r after %s is not RELEASE=PACKAGE with a release of %s'
                                   % (substitution, package, ', '.join(RELEASES)))
                if other_release == release:
                    package = other_package
            packages.append(package)
    return packages


def recipe_hash(release):
    """Hash of everything that shapes a release's base image: rebuilding is needed only when it changes."""
    digest = hashlib.sha256(release.encode() + b'\0')
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


def image_dir(release):
    return os.path.join(paths.STATE_ROOT, 'images', '%s-%s' % (release, recipe_hash(release)))


def _older_images(target, release):
    """Other images of the same release, and those from before images were named by release."""
    images = os.path.dirname(target)
    return [path for path in glob.glob(os.path.join(images, '*'))
            if os.path.isdir(path) and path != target
            and (os.path.basename(path).startswith(release + '-') or re.match(r'^[0-9a-f]{16}$', os.path.basename(path)))]


def wanted_host_images(topology, release):
    """{host: {'release', 'image'}}: each host's own release, else the instance's; images built as needed."""
    releases = {host['name']: host['release'] or release for host in topology['hosts']}
    images = {each: ensure_image(each, quiet_when_cached=True) for each in sorted(set(releases.values()))}
    return {name: {'release': each, 'image': images[each]} for name, each in releases.items()}


def ensure_image(release, quiet_when_cached=False):
    target = image_dir(release)
    if os.path.isfile(os.path.join(target, 'base.raw')):
        if not quiet_when_cached:
            log('image: %s is up to date (%s, recipe %s)' % (target, release, recipe_hash(release)))
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
        log('image: building %s (recipe %s) from the mirror apt uses (%s) ...' % (release, recipe_hash(release), mirror))
        started = time.monotonic()
        build_log = target + '.log'
        with open(build_log, 'w') as output:
            result = subprocess.run(['sh', os.path.join(IMAGE_RECIPE_DIR, 'build.sh'), target, mirror, release,
                                     ','.join(image_packages(release))],
                                    stdout=output, stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0:
            raise LabError('image build failed (exit %d); last lines of %s:\n%s' % (result.returncode, build_log, tail(build_log, 25)))
        log('image: %s built in %.0f s -> %s' % (release, time.monotonic() - started, target))
    for old in _older_images(target, release):
        if not _image_in_use(old):
            shutil.rmtree(old, ignore_errors=True)
            if os.path.isfile(old + '.log'):
                os.unlink(old + '.log')
    return target


def _image_in_use(path):
    for state_file in glob.glob(os.path.join(paths.STATE_ROOT, '*', 'state.json')):
        with open(state_file) as handle:
            if path in host_images(json.load(handle)).values():
                return True
    return False

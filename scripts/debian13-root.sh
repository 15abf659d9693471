#!/usr/bin/env bash
# A Debian 13 (trixie) root for what needs a newer Python than Debian 12's 3.11: ansible-core
# 2.20 and later want 3.12 or later, and Debian 12's archive has none. Built as the lab image
# is (debootstrap minbase, from the mirror apt uses), cached in .build/debian13/root; needs root.
#
#   scripts/debian13-root.sh build          build the root unless the cached one has these packages
#   scripts/debian13-root.sh run CMD...     run CMD in this checkout, inside the root
#
# `run` mounts the checkout at its own path in the root, in a mount namespace of its own:
# every mount ends with CMD, so nothing stays mounted into .build/ where `rm -rf` could reach
# the checkout through it. The root resolves names, trusts certificates and configures pip
# as the machine does (its resolv.conf, CA bundle and pip configuration, read-only).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
base=.build/debian13
root=$repo/$base/root
# python3-venv for the venvs, git for ansible-test and collection-tree.sh, ca-certificates
# for the bundle mounted over its own; for a Molecule scenario run in the root, what
# lab/labctl.py starts (QEMU, qemu-img, vde_switch, ssh-keygen) and the ssh Ansible and
# testinfra reach the guests with.
packages=python3,python3-venv,git,ca-certificates,qemu-system-x86,qemu-utils,vde2,openssh-client
stamp=$root/.lvs-topology-packages

# debootstrap unmounts the target's /proc at its exit only as best it can (a build of this root
# left it mounted): nothing may stay mounted in .build/, where `rm -rf` would descend into the
# machine's /proc.
unmount_below() {
  findmnt -rn -o TARGET | awk -v dir="$1/" 'index($0, dir) == 1' | sort -r | while read -r mountpoint; do
    umount -l "$mountpoint"
  done
}

build() {
  if [ "$(cat "$stamp" 2>/dev/null)" = "$packages" ]; then
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || { echo "debian13-root: building the root needs root (debootstrap, chroot)" >&2; exit 1; }
  local mirror start=$SECONDS
  mirror=$(.venv/bin/python -c 'import sys; sys.path.insert(0, "lab"); import labctl; print(labctl.apt_mirror())')
  echo "debian13-root: building $base/root (Debian 13 minbase, $packages) from $mirror ..."
  unmount_below "$repo/$base"
  rm -rf "$base/root.new" "$root"
  mkdir -p "$base"
  if ! debootstrap --variant=minbase --include="$packages" trixie "$base/root.new" "$mirror" > "$base/build.log" 2>&1; then
    unmount_below "$repo/$base"
    tail -n 25 "$base/build.log" >&2
    echo "debian13-root: debootstrap failed (whole log: $base/build.log)" >&2
    exit 1
  fi
  unmount_below "$repo/$base"
  echo "$packages" > "$base/root.new/.lvs-topology-packages"
  mv "$base/root.new" "$root"
  echo "debian13-root: built in $((SECONDS - start)) s ($(du -sh "$root" | cut -f1))"
}

run() {
  build
  # A linked worktree keeps its repository elsewhere; git inside the root needs it too.
  local common
  common=$(realpath "$(git rev-parse --git-common-dir)")
  # shellcheck disable=SC2016  # expanded by the inner shell, from its arguments
  unshare --mount --propagation private -- bash -euc '
    root=$1 repo=$2 common=$3
    shift 3
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    for path in "$repo" "$common"; do
      mkdir -p "$root$path" && mount --bind "$path" "$root$path"
    done
    for path in /etc/resolv.conf /etc/ssl/certs/ca-certificates.crt /etc/pip.conf /etc/xdg/pip; do
      [ -e "$path" ] || continue
      if [ -d "$path" ]; then mkdir -p "$root$path"; else mkdir -p "$(dirname "$root$path")" && touch "$root$path"; fi
      mount --bind -o ro "$path" "$root$path"
    done
    # The machine'\''s PATH and HOME would point at its own Pythons and caches; keep the rest
    # (PIP_*, ANSIBLE_*, CI).
    exec chroot "$root" /usr/bin/env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      bash -c "cd \"\$0\" && exec \"\$@\"" "$repo" "$@"
  ' debian13-root "$root" "$repo" "$common" "$@"
}

case ${1:-} in
  build) build ;;
  run) shift; [ $# -gt 0 ] || { echo "usage: scripts/debian13-root.sh run CMD..." >&2; exit 2; }; run "$@" ;;
  *) echo "usage: scripts/debian13-root.sh build | run CMD..." >&2; exit 2 ;;
esac

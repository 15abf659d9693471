#!/bin/sh
# Build the lab's base image: Debian 12 (minbase) with Debian's own kernel, which has
# ip_vs, every IPVS scheduler and ipip as modules. Called by `lab/labctl.py image`, which
# passes the output directory (created here, atomically) and the Debian mirror read from
# apt's configuration on this machine.
#   build.sh OUTPUT_DIR MIRROR_URL
set -eu

out=$1
mirror=$2
recipe_dir=$(cd "$(dirname "$0")" && pwd)
packages=$(grep -v '^#' "$recipe_dir/packages.txt" | tr '\n' ',' | sed 's/,*$//')

work=$(mktemp -d "${out}.build.XXXXXX")
root=$work/root
cleanup() {
    umount "$root/proc" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror"

# Guest-side files of the recipe (identity unit, NIC naming, initramfs settings, fstab).
cp -a "$recipe_dir/rootfs/." "$root/"

# Nothing from the documentation is needed inside a lab VM; keeps the image small.
cat > "$root/etc/dpkg/dpkg.cfg.d/lab-nodoc" <<'CFG'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
CFG

mount -t proc proc "$root/proc"
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y --no-install-recommends linux-image-amd64
umount "$root/proc"

# Drivers a QEMU guest never sees (GPUs, sound, wireless, USB, media...) are half of the
# kernel's modules: dropping them keeps the image small and udev's coldplug short.
for kernel_dir in "$root"/lib/modules/*; do
    for unneeded in drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging \
            drivers/bluetooth drivers/iio drivers/usb drivers/hid drivers/isdn drivers/mmc drivers/nfc \
            sound net/wireless net/mac80211 net/bluetooth; do
        rm -rf "${kernel_dir:?}/kernel/$unneeded"
    done
    chroot "$root" depmod "$(basename "$kernel_dir")"
done

# Services: the roles under test enable keepalived and configure nginx themselves; the
# lab starts nginx only on hosts that serve pages. Timers and waits only cost boot time.
chroot "$root" systemctl disable keepalived.service nginx.service >/dev/null 2>&1 || true
chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer dpkg-db-backup.timer \
    getty@.service getty-static.service >/dev/null 2>&1
# Pseudo file systems and helpers nothing in a lab VM uses; each is a unit start that
# costs seconds under TCG.
chroot "$root" systemctl mask dev-hugepages.mount dev-mqueue.mount sys-kernel-debug.mount \
    sys-kernel-tracing.mount sys-fs-fuse-connections.mount sys-kernel-config.mount \
    proc-sys-fs-binfmt_misc.automount systemd-binfmt.service systemd-pstore.service \
    modprobe@configfs.service modprobe@dm_mod.service modprobe@efi_pstore.service \
    modprobe@fuse.service modprobe@drm.service modprobe@loop.service \
    systemd-update-utmp.service systemd-update-utmp-runlevel.service >/dev/null 2>&1
# wait-online stays, as on any networkd host: units ordered after it (the VIPs vip_address
# persists) must not start before networkd has configured the links and dropped foreign
# addresses. Only units that want network-online.target pull it into a boot.
chroot "$root" systemctl enable systemd-networkd.service systemd-networkd-wait-online.service \
    lvs-lab-identity.service >/dev/null
# The zipimport bytecode cache (lvs_lab_zipimport_cache.py) is imported by every Python
# start: compile it once here instead of in the first one.
chroot "$root" python3 -m py_compile /usr/lib/python3/dist-packages/lvs_lab_zipimport_cache.py
rm -f "$root/etc/nginx/sites-enabled/default"
rm -f "$root/etc/resolv.conf" && : > "$root/etc/resolv.conf"
# restrict=on keeps the VMs offline: no apt index is useful inside them.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log

mkdir -p "$work/out"
cp "$root"/boot/vmlinuz-* "$work/out/vmlinuz"
cp "$root"/boot/initrd.img-* "$work/out/initrd.img"
# labctl checks this before booting a VM from an image (see IDENTITY_FORMAT there).
echo tar > "$work/out/identity-format"
mkfs.ext4 -q -L lvslab -d "$root" "$work/out/base.raw" 2G
mv "$work/out" "$out"

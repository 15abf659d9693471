#!/bin/sh
# Build the lab's base image of one Debian release (bookworm: Debian 12, trixie: Debian 13),
# minbase with Debian's own kernel, which has ip_vs, every IPVS scheduler and ipip as
# modules. Called by `lab/labctl.py image`, which passes the output directory (created here,
# atomically), the Debian mirror read from apt's configuration on this machine, the release
# and the packages of packages.txt for that release, comma-separated.
#   build.sh OUTPUT_DIR MIRROR_URL RELEASE PACKAGES
set -eu

out=$1
mirror=$2
release=$3
packages=$4
recipe_dir=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d "${out}.build.XXXXXX")
root=$work/root
cleanup() {
    umount "$root/proc" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

debootstrap --variant=minbase --include="$packages" "$release" "$root" "$mirror"

# Guest-side files of the recipe (identity unit, NIC naming, module blacklist, fstab...).
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
# Debian's ipvsadm init script does nothing unless /etc/default/ipvsadm says AUTO="true",
# which no lab host does (the director role installs its own restore unit), yet it cost
# about 2 s of every TCG boot.
chroot "$root" systemctl mask ipvsadm.service >/dev/null 2>&1
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
# Boot-time bookkeeping an image that never changes packages offline has no use for (users
# and groups exist since the build, virtio-rng seeds the kernel, no ip= on the command line,
# the lab's initramfs mounts the root with fstab's options) - four of them sat on the path
# to sshd, about 4 s of a TCG boot. The journal stays in /run (journald.conf.d): nothing is
# written to disk and flushed at boot, and the console log keeps what a failed boot says.
chroot "$root" systemctl mask systemd-sysusers.service systemd-random-seed.service \
    systemd-network-generator.service systemd-remount-fs.service kmod-static-nodes.service \
    systemd-journal-flush.service >/dev/null 2>&1
# Every VM boots a fresh overlay, so each boot was a first boot that rebuilt the linker cache
# and the journal catalog (ConditionNeedsUpdate), about 4 s under TCG in Debian 13: the
# build's packages already did both.
chroot "$root" systemctl mask ldconfig.service systemd-journal-catalog-update.service >/dev/null 2>&1
# Generators for hardware and features a lab VM lacks (encrypted, verity or GPT-discovered
# disks, hibernation, getty on the serial console, rc.local, a TPM, sshd on AF_VSOCK, which
# failed for want of one) cost over 1 s of every boot. Masking one a release lacks is harmless.
# fstab's stays, and so does sysv's, for init scripts of packages a role may install.
mkdir -p "$root/etc/systemd/system-generators"
for generator in cryptsetup debug getty gpt-auto hibernate-resume integritysetup rc-local run \
        ssh system-update tpm2 veritysetup; do
    ln -sf /dev/null "$root/etc/systemd/system-generators/systemd-$generator-generator"
done
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
# Debian's kernel is packed (xz in Debian 12, zstd in Debian 13), and under TCG its own
# decompressor took 6 s of every boot: QEMU boots the unpacked kernel instead, through its
# PVH entry (CONFIG_PVH=y). unpack.py runs with the image's Python (it says why).
cp "$recipe_dir/unpack.py" "$root/tmp/lvs-lab-unpack.py"
chroot "$root" sh -c 'python3 /tmp/lvs-lab-unpack.py kernel /boot/vmlinuz-* /tmp/lvs-lab-vmlinux'
mv "$root/tmp/lvs-lab-vmlinux" "$work/out/vmlinux"

# The VMs boot from the lab's own initramfs (initramfs-init says why): klibc's tools, the
# root disk's drivers in load order, and that script as /init. It is packed by the image's
# own cpio, so the machine needs none.
initramfs=$root/tmp/lvs-lab-initramfs
mkdir -p "$initramfs/bin" "$initramfs/lib" "$initramfs/modules" "$initramfs/proc" "$initramfs/dev" "$initramfs/root"
for tool in sh cat sleep insmod mount umount run-init poweroff; do
    cp "$root/usr/lib/klibc/bin/$tool" "$initramfs/bin/"
done
cp "$root"/usr/lib/klibc-*.so "$initramfs/lib/"
# klibc's tools load it from /lib (Debian 12) or /usr/lib (Debian 13): both lead there.
mkdir -p "$initramfs/usr" && ln -s ../lib "$initramfs/usr/lib"
cp "$recipe_dir/initramfs-init" "$initramfs/init"
kernel_version=$(basename "$root"/lib/modules/*)
chroot "$root" modprobe --set-version "$kernel_version" --show-depends --all virtio_pci virtio_blk crc32c_generic ext4 \
    | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' \
    | while read -r module; do
        # klibc's insmod hands the kernel the file as it is: Debian 13's .ko.xz modules go in unpacked.
        unpacked=$(basename "$module" .xz)
        if [ "$unpacked" = "$(basename "$module")" ]; then
            cp "$root$module" "$initramfs/modules/"
        else
            chroot "$root" python3 /tmp/lvs-lab-unpack.py module "$module" "/tmp/lvs-lab-initramfs/modules/$unpacked"
        fi
        echo "$unpacked" >> "$initramfs/modules.order"
    done
chroot "$root" sh -c 'cd /tmp/lvs-lab-initramfs && find . | cpio -o -H newc --quiet' | gzip -9 > "$work/out/initrd.img"
rm -rf "$initramfs" "$root/tmp/lvs-lab-unpack.py"
# labctl checks this before booting a VM from an image (see IDENTITY_FORMAT there).
echo tar > "$work/out/identity-format"
mkfs.ext4 -q -L lvslab -d "$root" "$work/out/base.raw" 2G
mv "$work/out" "$out"

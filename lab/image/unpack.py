"""Run by build.sh with the image's own Python (chroot): unpack what the kernel package packs.

    unpack.py kernel BZIMAGE VMLINUX   the kernel inside a bzImage (xz: Debian 12, zstd: Debian 13)
    unpack.py module MODULE.ko.xz MODULE.ko

The image's Python, not the build machine's, so that a release's compression needs nothing
the image does not already carry: lzma in Python's standard library, and libzstd, which
apt and systemd link against (the standard library's zstd comes only with Python 3.14).
"""
import ctypes
import lzma
import struct
import sys

XZ_MAGIC = b'\xfd7zXZ\x00'
ZSTD_MAGIC = b'\x28\xb5\x2f\xfd'


def kernel_payload(bzimage):
    """The compressed kernel and its unpacked size, located by the boot protocol's setup header."""
    setup_sectors = bzimage[0x1f1] or 4
    payload_offset, payload_length = struct.unpack_from('<II', bzimage, 0x248)
    start = (setup_sectors + 1) * 512 + payload_offset
    payload = bzimage[start:start + payload_length]
    # The kernel's build appends the unpacked size (32-bit little-endian) to the payload.
    return payload[:-4], struct.unpack('<I', payload[-4:])[0]


def unzstd(data, size):
    libzstd = ctypes.CDLL('libzstd.so.1')
    libzstd.ZSTD_decompress.restype = ctypes.c_size_t
    libzstd.ZSTD_isError.argtypes = [ctypes.c_size_t]
    output = ctypes.create_string_buffer(size)
    written = libzstd.ZSTD_decompress(output, ctypes.c_size_t(size), data, ctypes.c_size_t(len(data)))
    if libzstd.ZSTD_isError(written):
        raise SystemExit('unpack.py: zstd failed: %s' % ctypes.string_at(libzstd.ZSTD_getErrorName(ctypes.c_size_t(written))).decode())
    return output.raw[:written]


def unpack_kernel(bzimage):
    payload, size = kernel_payload(bzimage)
    if payload.startswith(XZ_MAGIC):
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
    if payload.startswith(ZSTD_MAGIC):
        return unzstd(payload, size)
    raise SystemExit('unpack.py: the kernel is packed neither with xz nor with zstd (payload starts %s)' % payload[:6].hex())


def main(what, source, target):
    with open(source, 'rb') as handle:
        packed = handle.read()
    unpacked = unpack_kernel(packed) if what == 'kernel' else lzma.decompress(packed, format=lzma.FORMAT_XZ)
    with open(target, 'wb') as handle:
        handle.write(unpacked)


if __name__ == '__main__':
    main(*sys.argv[1:])

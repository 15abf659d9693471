"""Lab VMs only: keep the bytecode of modules imported from zip files, as __pycache__ does.

Python compiles a module imported from a zip file from source every time and keeps nothing
(zipimport has no __pycache__). Ansible runs every task from a fresh zip (AnsiballZ), so
every task in a lab VM compiled ansible.module_utils anew: about 1 s of QEMU's emulated CPU
per task, a quarter of a small task's time. This keeps the compiled code keyed by the SHA-256
of the source, so what runs is exactly what compile() made of that source. Loaded at
interpreter start by lvs-lab-zipimport-cache.pth; `make bench` removes that file, so its
figures are those of a stock Debian host.
"""
import marshal
import os
import zipimport

CACHE_DIR = "/var/cache/lvs-lab-zipimport"
_compile_source = zipimport._compile_source


def _located(code, filename):
    """The code with its file name, and that of every function in it, set to this zip's path."""
    constants = tuple(_located(const, filename) if isinstance(const, type(code)) else const for const in code.co_consts)
    return code.replace(co_filename=filename, co_consts=constants)


def _cached_compile_source(pathname, source):
    import hashlib

    path = os.path.join(CACHE_DIR, hashlib.sha256(source).hexdigest())
    try:
        with open(path, "rb") as cached:
            return _located(marshal.load(cached), pathname)
    except (OSError, EOFError, ValueError, TypeError):
        pass
    code = _compile_source(pathname, source)
    try:
        os.makedirs(CACHE_DIR, exist_ok=True)
        partial = "%s.%d" % (path, os.getpid())
        with open(partial, "wb") as cached:
            marshal.dump(code, cached)
        os.replace(partial, path)
    except OSError:
        pass
    return code


zipimport._compile_source = _cached_compile_source

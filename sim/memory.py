"""Keep freed memory in the process instead of handing it back to the system (issue 13).

A run allocates and frees arrays of a few MB every month (a month's episodes × candidates, the
year's case columns). glibc's malloc returns the top of its heap to the system once more than
twice its (adaptive) mmap threshold is free, and serves the next allocation of the same size with
fresh pages that the kernel must fault in and zero: in the default 5-year run ~290,000 page
faults and 0.8 s of system time out of ~6 s. Raising the trim threshold, padding the heap's growth
and fixing the mmap threshold at glibc's maximum (32 MiB: larger arrays, as at province scale, are
still mapped and unmapped) keeps those pages for reuse: ~90,000 faults, 0.3 s (measured on these
2-core machines; PERFORMANCE.md found 1.4–2× on large temporaries the same way). The peak
resident memory does not grow (a freed block is reused, not added to).

``keep_freed_memory()`` is called by the entry points that run models — the command line's
``main`` and the comparison and sweep job (``sim.experiments.compare.run_job``), which may run
in a fresh worker process. It changes nothing where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # glibc's mallopt parameters
MMAP_THRESHOLD = 32 * 2**20   # glibc's maximum (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit)
TRIM_THRESHOLD = 1 * 2**30    # free memory kept at the top of the heap before trimming
TOP_PAD = 64 * 2**20          # extra the heap grows by each time it must grow

_done = False


def keep_freed_memory() -> bool:
    """Set glibc's malloc to keep freed memory for reuse (once per process); True if set."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        # the running process's own symbols (its C library among them); no find_library, which
        # starts a subprocess
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    _done = all(mallopt(param, value) == 1 for param, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (M_TOP_PAD, TOP_PAD)))
    return _done

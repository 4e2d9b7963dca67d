"""sim.memory: glibc's malloc keeps freed memory for reuse (issue 13); set once, harmless twice."""

from __future__ import annotations

import sys

import pytest

from sim.memory import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_keep_freed_memory_is_set_once_and_again_harmlessly():
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True

"""Shared checks for refused input: exit 2, one line naming what is wrong, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path → bytes): compare before and after a command."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def refused(capsys):
    """``refused(code, *fragments)``: the command exited 2 with one line on stderr that starts
    with ``drgsim: error:``, has no traceback and contains every fragment; returns the line."""

    def check(code: int, *fragments: str) -> str:
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert code == 2, (code, captured.err)
        assert len(lines) == 1, lines
        line = lines[0]
        assert line.startswith("drgsim: error: "), line
        assert "Traceback" not in captured.err and "usage:" not in captured.err
        for fragment in fragments:
            assert fragment in line, (fragment, line)
        return line

    return check

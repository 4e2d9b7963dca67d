"""Shipped scenarios and data, found through ``importlib.resources`` (editable or wheel installs).

A user may name a shipped policy or catalogue by its short name (``point``, ``guangxi_2022``)
instead of a path; a path that exists always wins.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def scenarios_root() -> Path:
    """The folder of the installed ``scenarios`` package (a real folder for both install kinds)."""
    return Path(str(resources.files("scenarios")))


def shipped(kind: str, name: str, suffix: str) -> Path:
    """``scenarios/<kind>/<name><suffix>``."""
    return scenarios_root() / kind / f"{name}{suffix}"


def resolve(argument: str, kind: str, suffix: str) -> Path:
    """A user's argument as a path: an existing file, else a shipped file of that short name."""
    path = Path(argument)
    if path.exists() or path.suffix:
        return path
    candidate = shipped(kind, argument, suffix)
    return candidate if candidate.exists() else path


def shipped_names(kind: str, suffix: str) -> list[str]:
    folder = scenarios_root() / kind
    return sorted(p.name[: -len(suffix)] for p in folder.glob(f"*{suffix}")
                  if not p.name.startswith("_"))

"""Shipped scenarios and data, found through ``importlib.resources`` (editable or wheel installs).

A user may name a shipped policy or catalogue by its short name (``point``, ``guangxi_2022``)
instead of a path; a path that exists always wins.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sim.errors import InputError

SINGULAR = {"policies": "policy", "catalogues": "catalogue", "regions": "region",
            "reforms": "reform", "examples": "example",
            "sweeps": "sweep"}


def scenarios_root() -> Path:
    """The folder of the installed ``scenarios`` package (a real folder for both install kinds)."""
    return Path(str(resources.files("scenarios")))


def shipped(kind: str, name: str, suffix: str) -> Path:
    """``scenarios/<kind>/<name><suffix>``."""
    return scenarios_root() / kind / f"{name}{suffix}"


def resolve(argument: str, kind: str, suffix: str) -> Path:
    """A user's argument as a path: an existing file, else a shipped file of that short name.

    A name with no suffix that is neither a file nor a shipped name is refused, listing the
    shipped names."""
    path = Path(argument)
    if path.exists() or path.suffix:
        return path
    if "/" not in argument and "\\" not in argument and argument.strip():
        candidate = shipped(kind, argument, suffix)
        if candidate.is_file():
            return candidate
    names = ", ".join(shipped_names(kind, suffix))
    raise InputError(argument, None,
                     f"no such file, and no shipped {SINGULAR.get(kind, kind)} of that name",
                     f"a {suffix} file or one of: {names}")


def shipped_names(kind: str, suffix: str) -> list[str]:
    folder = scenarios_root() / kind
    return sorted(p.name[: -len(suffix)] for p in folder.glob(f"*{suffix}")
                  if not p.name.startswith("_"))

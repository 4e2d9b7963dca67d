"""Run folders: tables written atomically (a temporary folder renamed into place) and a run record.

A run folder is complete or absent: everything is written to ``<dir>.partial-<pid>`` first and
renamed at the end, so an interrupted or failed run leaves no half-written output under the
requested name. The run record (``run_record.json``) carries package versions, the git revision,
the command, the resolved parameters, SHA-256 hashes of every input file and the seeds.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.catalogue import file_sha256

PACKAGES = ("drgsim", "numpy", "pandas", "scipy", "pyarrow", "pyyaml", "mesa", "simpy",
            "matplotlib")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_revision() -> str | None:
    """The git revision of the drgsim source tree, with ``+dirty`` if it has changes."""
    here = Path(__file__).resolve().parent
    try:
        revision = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                  text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return revision + ("+dirty" if dirty.strip() else "")


def run_record(inputs: dict[str, str | Path | list], parameters: dict, seeds: dict | None = None,
               extra: dict | None = None) -> dict:
    """A JSON-able record of what produced a run folder."""
    hashes: dict = {}
    for role, value in inputs.items():
        paths = value if isinstance(value, list) else [value]
        hashes[role] = [{"path": str(p), "sha256": file_sha256(Path(p))} for p in paths]
    return {
        "command": sys.argv[:1] and [Path(sys.argv[0]).name, *sys.argv[1:]],
        "versions": package_versions(),
        "git_revision": git_revision(),
        "platform": platform.platform(),
        "inputs": hashes,
        "parameters": parameters,
        "seeds": seeds or {},
        **(extra or {}),
    }


class RunFolder:
    """Write into a temporary sibling folder; ``commit()`` renames it into place."""

    def __init__(self, target: str | Path):
        self.target = Path(target)
        self.partial = self.target.with_name(f"{self.target.name}.partial-{os.getpid()}")

    def __enter__(self) -> RunFolder:
        if self.partial.exists():
            shutil.rmtree(self.partial)
        self.partial.mkdir(parents=True)
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            shutil.rmtree(self.partial, ignore_errors=True)

    def path(self, name: str) -> Path:
        return self.partial / name

    def write_table(self, name: str, table: pd.DataFrame, parquet: bool = True) -> None:
        """``name``.csv (and ``name``.parquet) from a DataFrame."""
        import pyarrow as pa
        import pyarrow.csv as pa_csv
        import pyarrow.parquet as pq

        arrow = pa.Table.from_pandas(table, preserve_index=False)
        if any(pa.types.is_dictionary(f.type) for f in arrow.schema):
            arrow = arrow.cast(pa.schema([
                pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
                for f in arrow.schema]))
        pa_csv.write_csv(arrow, self.path(f"{name}.csv"))
        if parquet:
            pq.write_table(arrow, self.path(f"{name}.parquet"))

    def write_json(self, name: str, data: dict) -> None:
        with open(self.path(name), "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2, default=_json_default)
            handle.write("\n")

    def commit(self) -> Path:
        """Replace the target folder by the finished one."""
        self.target.parent.mkdir(parents=True, exist_ok=True)
        old = None
        if self.target.exists():
            old = self.target.with_name(f"{self.target.name}.old-{os.getpid()}")
            self.target.rename(old)
        self.partial.rename(self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.target


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)

"""Run folders: where drgsim may write, tables written atomically, and a run record.

drgsim writes only into a place it owns (:func:`check_output_folder`): a new path inside an
existing folder, an empty folder, or a folder that an earlier drgsim command wrote (recognised by
its ``run_record.json``, which lists every top-level entry the command wrote). Anything else — a
file, a folder with other files in it, the working folder, a folder that holds one of the run's
inputs — is refused before any work starts, with the reason and what to do instead.

A run folder is complete or absent: everything is written to ``<dir>.partial-<pid>`` first (that
staging folder is created when the command starts, which also proves the place is writable) and
renamed into place at the end; an earlier output under the same name is swapped out and removed
only then. On any failure, Ctrl-C included, the staging folder is removed. The run record carries
package versions, the git revision, the command, the resolved parameters, SHA-256 hashes of every
input file and the seeds.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.errors import InputError
from sim.inputs.catalogue import file_sha256
from sim.inputs.extract import TableProblems

PACKAGES = ("drgsim", "numpy", "pandas", "scipy", "pyarrow", "pyyaml", "mesa", "simpy",
            "matplotlib", "uharfbuzz", "noto-cjk-sans-otc")  # the last two: the report's font
RECORD = "run_record.json"
WRITTEN_BY = "drgsim"
# what a killed drgsim may leave inside its own folder (staging of `drgsim report`)
OWN_LEFTOVERS = re.compile(r".+\.(partial|old)-\d+")
ALLOWED = "a new folder, an empty folder or an earlier drgsim output folder"


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
        "written_by": WRITTEN_BY,
        "command": sys.argv[:1] and [Path(sys.argv[0]).name, *sys.argv[1:]],
        "versions": package_versions(),
        "git_revision": git_revision(),
        "platform": platform.platform(),
        "inputs": hashes,
        "parameters": parameters,
        "seeds": seeds or {},
        **(extra or {}),
    }


# --------------------------------------------------------------------------- ownership
def _refuse(argument: str, out: Path, problem: str, expected: str = ALLOWED) -> None:
    raise InputError(argument, None, f"{str(out)!r} {problem}", expected)


def earlier_output(folder: Path) -> dict | None:
    """The run record of a folder an earlier drgsim command wrote, else None."""
    path = folder / RECORD
    try:
        if not path.is_file() or path.stat().st_size > 64 << 20:
            return None
        record = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    versions = record.get("versions")
    ours = record.get("written_by") == WRITTEN_BY or (
        isinstance(versions, dict) and "drgsim" in versions and "kind" in record)
    return record if ours else None


def _foreign_entries(folder: Path, record: dict) -> list[str]:
    """Top-level entries of an earlier output that its run record does not list as written."""
    written = record.get("outputs")
    entries = sorted(p.name for p in folder.iterdir())
    if not isinstance(written, list):  # records from before the list existed: known names only
        return [name for name in entries
                if not re.fullmatch(r"[\w.-]+\.(csv|parquet|json|html|pdf)|charts|replications",
                                    name) and not OWN_LEFTOVERS.fullmatch(name)]
    return [name for name in entries
            if name not in written and not OWN_LEFTOVERS.fullmatch(name)]


def check_output_folder(out: Path, argument: str = "--out", inputs: Iterable[Path] = (),
                        create_parent: bool = False) -> None:
    """Refuse an output folder drgsim does not own, before any work (see module docstring).

    ``inputs`` are the files the command reads: an output folder may not hold any of them.
    ``create_parent`` allows a missing parent folder (the default ``outputs/`` folder only).
    """
    if not str(out).strip():
        _refuse(argument, out, "is empty", "a folder path")
    target = Path(os.path.abspath(out))
    cwd = Path.cwd().resolve()
    resolved = target.resolve()
    if resolved == cwd or resolved in cwd.parents:
        _refuse(argument, out, "is the working folder or one of its parents; drgsim would "
                "replace it", "a new folder inside it, e.g. outputs/run")
    for path in inputs:
        source = Path(path).resolve()
        if source == resolved or resolved in source.parents:
            _refuse(argument, out, f"holds the input {str(path)!r}; drgsim never replaces its "
                    "inputs", "a new folder elsewhere")
    # every existing ancestor must be a folder; the parent must exist (or be creatable)
    for ancestor in target.parents:
        if ancestor.exists() or ancestor.is_symlink():
            if not ancestor.is_dir():
                _refuse(argument, out, f"lies under {str(ancestor)!r}, which is a file",
                        "a path inside a folder")
            break
    parent = target.parent
    if not parent.is_dir() and not create_parent:
        _refuse(argument, out, f"is in a folder that does not exist ({str(parent)!r})",
                "a new folder inside an existing one (create the parent first)")
    if target.is_symlink():
        _refuse(argument, out, "is a symbolic link", ALLOWED)
    if not target.exists():
        return
    if not target.is_dir():
        _refuse(argument, out, "is a file; drgsim writes a folder and never replaces a file",
                ALLOWED)
    try:
        entries = list(target.iterdir())
    except OSError as error:
        _refuse(argument, out, f"cannot be read ({error.strerror})", ALLOWED)
    if not entries:
        return
    record = earlier_output(target)
    if record is None:
        _refuse(argument, out, f"is a folder with {len(entries)} entries and no drgsim run "
                "record; drgsim will not replace it", ALLOWED + " (choose another --out)")
    foreign = _foreign_entries(target, record)
    if foreign:
        _refuse(argument, out, f"is an earlier drgsim output that now also holds "
                f"{foreign[0]!r}, which drgsim did not write; drgsim will not delete it",
                "a folder holding only drgsim's outputs (move that file out) or another --out")


def check_output_file(out: Path, argument: str, inputs: Iterable[Path], suffix: str,
                      owned: Callable[[Path], bool], what: str) -> None:
    """Refuse an output *file* drgsim may not write: an input, a folder, a file drgsim did not
    write (``owned`` tells), a wrong suffix, or a path in a missing folder or under a file."""
    if not str(out).strip():
        _refuse(argument, out, "is empty", f"a {what} path ending in {suffix}")
    target = Path(os.path.abspath(out))
    if target.is_dir():
        _refuse(argument, out, "is a folder", f"a {what} path ending in {suffix}")
    if target.suffix.lower() != suffix:
        _refuse(argument, out, f"does not end in {suffix}", f"a {what} path ending in {suffix}")
    for path in inputs:
        if target.resolve() == Path(path).resolve():
            _refuse(argument, out, "is the input file; drgsim never overwrites its inputs",
                    f"a new {what} path")
    for ancestor in target.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                _refuse(argument, out, f"lies under {str(ancestor)!r}, which is a file",
                        "a path inside a folder")
            break
    if not target.parent.is_dir():
        _refuse(argument, out, f"is in a folder that does not exist ({str(target.parent)!r})",
                "a path inside an existing folder (create the folder first)")
    if (target.exists() or target.is_symlink()) and not owned(target):
        _refuse(argument, out, "exists and was not written by drgsim; drgsim will not "
                "overwrite it", f"a new {what} path (or one drgsim wrote earlier)")


def write_files_atomically(files: dict[Path, Callable[[Path], None]], argument: str) -> None:
    """Write several files by writing each to a temporary sibling, then renaming them all into
    place; on any failure (Ctrl-C included) every temporary file is removed."""
    staged: dict[Path, Path] = {}
    try:
        for path, write in files.items():
            temporary = path.with_name(f"{path.name}.partial-{os.getpid()}")
            staged[path] = temporary
            try:
                write(temporary)
            except PermissionError as error:
                raise InputError(argument, None, f"cannot write {str(path)!r} "
                                 f"({error.strerror})", "a folder you may write to") from None
        for path, temporary in staged.items():
            os.replace(temporary, path)
    finally:
        for temporary in staged.values():
            temporary.unlink(missing_ok=True)


class RunFolder:
    """Stage a run folder beside the target; ``commit()`` swaps it into place.

    ``RunFolder(out, inputs=...)`` checks the target at once (:func:`check_output_folder`);
    entering the context creates the staging folder (so an unwritable place fails before any
    work); leaving it by an exception removes the staging folder.
    """

    def __init__(self, target: str | Path, inputs: Iterable[Path] = (), argument: str = "--out",
                 create_parent: bool = False):
        self.given = Path(target)
        self.target = Path(os.path.abspath(target))
        self.argument = argument
        self.create_parent = create_parent
        check_output_folder(self.given, argument, inputs, create_parent)
        self.partial = self.target.with_name(f"{self.target.name}.partial-{os.getpid()}")

    def __enter__(self) -> RunFolder:
        if self.partial.exists():
            shutil.rmtree(self.partial)
        self.created = None
        try:
            if self.create_parent and not self.target.parent.exists():
                missing = [p for p in (self.target.parent, *self.target.parent.parents)
                           if not p.exists()]
                self.created = missing[-1]  # the outermost folder made for the default path
                self.target.parent.mkdir(parents=True)
            self.partial.mkdir()
        except OSError as error:
            raise InputError(self.argument, None, f"cannot write in "
                             f"{str(self.target.parent)!r} ({error.strerror})",
                             "a folder you may write to") from None
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            shutil.rmtree(self.partial, ignore_errors=True)
            if self.created is not None:  # the default outputs/ folder, made for nothing
                try:
                    for folder in (self.target.parent, *self.target.parent.parents):
                        folder.rmdir()
                        if folder == self.created:
                            break
                except OSError:
                    pass

    def check_inputs(self, inputs: Iterable[Path]) -> None:
        """Once every input file is known (extends, catalogues …): none may lie in the target."""
        check_output_folder(self.given, self.argument, inputs, create_parent=True)

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

    def _list_outputs(self) -> None:
        """Name every top-level entry in the run record, so a later run knows what it owns."""
        record_path = self.path(RECORD)
        if not record_path.is_file():
            return
        record = json.loads(record_path.read_text("utf-8"))
        record["outputs"] = sorted(p.name for p in self.partial.iterdir())
        self.write_json(RECORD, record)

    def commit(self) -> Path:
        """Replace the target folder by the finished one (the target is checked again first)."""
        self._list_outputs()
        check_output_folder(self.given, self.argument, (), create_parent=True)
        old = None
        if self.target.exists():
            old = self.target.with_name(f"{self.target.name}.old-{os.getpid()}")
            self.target.rename(old)
        try:
            self.partial.rename(self.target)
        except BaseException:
            if old is not None:
                old.rename(self.target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.given


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


# --------------------------------------------------------------------------- --errors FILE


def check_errors_file(errors: Path, inputs: list[Path], out_folder: Path) -> None:
    """``--errors FILE``: a CSV path drgsim may write (new, or an errors file it wrote before),
    outside the output folder and not an input."""
    check_output_file(errors, "--errors", inputs, ".csv", _errors_file_by_drgsim,
                      "problem list")
    target = Path(os.path.abspath(errors))
    if out_folder == target or out_folder in target.parents:
        raise InputError("--errors", None, f"{str(errors)!r} is inside the output folder "
                         f"{str(out_folder)!r}", "a path outside --out (drgsim replaces the "
                         "output folder as a whole)")


def _errors_file_by_drgsim(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            first = handle.readline().strip()
    except (OSError, UnicodeDecodeError):
        return False
    return first.split(",")[:1] == ["row"] and first.endswith(",problem,expected")


@contextmanager
def problems_listed(errors: Path | None, data_path: Path):
    """Reading ``data_path``: when it is refused, every problem goes to ``errors`` (--errors)
    before the one-line error is raised on — its rows, or the one whole-file problem."""
    try:
        yield
    except TableProblems as refused:
        if errors is not None:
            write_errors(errors, refused.frame())
            refused.errors_file = str(errors)
        raise
    except InputError as refused:
        if errors is not None and refused.file == str(data_path):
            write_errors(errors, whole_file_problem(refused))
        raise


def whole_file_problem(error: InputError):
    """A whole-file problem (a missing column, an undecodable byte …) as the errors list."""
    return pd.DataFrame([{"row": None, "line": None, "column": error.where or "",
                          "field": "", "value": "", "problem": error.problem,
                          "expected": error.expected or ""}])


def write_errors(errors: Path, frame) -> None:
    """Every problem, one row each (UTF-8 with BOM, so that Excel shows Chinese values)."""
    write_files_atomically(
        {errors: lambda path: frame.to_csv(path, index=False, encoding="utf-8-sig")},
        "--errors")

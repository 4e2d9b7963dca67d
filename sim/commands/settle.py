"""`drgsim settle` end to end: load and validate every input, settle, write the run folder.

The output folder is checked and staged first; inputs are validated completely before anything is
written into it; the folder appears whole or not at all (see :mod:`sim.store`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tqdm import tqdm

from sim.errors import InputError
from sim.inputs.cases import load_cases
from sim.inputs.catalogue import load_catalogue
from sim.inputs.extract import TableProblems, problems_frame
from sim.inputs.policy import load_policy
from sim.settlement import Settlement, settle
from sim.store import RunFolder, check_output_file, run_record, write_files_atomically


def settle_to_folder(cases_path: Path, catalogue_path: Path, policy_path: Path,
                     reforms: list[Path], budget: float | None, year: int | None, out: Path,
                     parquet: bool = True, progress: bool | None = None,
                     create_parent: bool = False, encoding: str | None = None,
                     columns: Path | None = None, errors: Path | None = None,
                     skip_bad_rows: bool = False) -> tuple[Settlement, Path]:
    """Load, validate, settle and write; a stage progress bar on a terminal (``progress=None``
    shows it only when stderr is a terminal).

    ``encoding`` and ``columns`` (a YAML map of column names) say how to read the cases;
    ``errors`` is a CSV file for every problem found in them (written whether or not the cases
    are refused); ``skip_bad_rows`` settles the good rows and puts the others in
    ``rejected_rows.csv`` in the run folder.
    """
    inputs = [cases_path, catalogue_path, policy_path, *reforms]
    if columns is not None:
        inputs.append(columns)
    folder = RunFolder(out, inputs=inputs, create_parent=create_parent)
    if errors is not None:
        check_errors_file(errors, inputs, folder.target)
    with folder, tqdm(total=4, desc="settle", unit="stage", leave=False,
                      disable=None if progress is None else not progress) as bar:
        bar.set_postfix_str("reading the policy, catalogue and cases")
        policy = load_policy(policy_path, reforms)
        folder.check_inputs(policy.files)
        catalogue = load_catalogue(catalogue_path)
        try:
            cases = load_cases(cases_path, catalogue, policy.levels, year, encoding=encoding,
                               columns=columns, skip_bad_rows=skip_bad_rows)
        except TableProblems as refused:
            if errors is not None:
                write_errors(errors, refused.frame())
                refused.errors_file = str(errors)
            raise
        except InputError as refused:  # a problem of the whole file is the one problem to list
            if errors is not None and refused.file == str(cases_path):
                write_errors(errors, whole_file_problem(refused))
            raise
        bar.update(1)
        bar.set_postfix_str(f"settling {len(cases):,} cases")
        result = settle(cases, catalogue, policy, budget)
        bar.update(1)
        bar.set_postfix_str("writing the run folder")
        on = dt.date(cases.year, 1, 1)
        record_inputs = {"cases": cases_path, "catalogue": catalogue_path,
                         "policy": policy.files}
        if columns is not None:
            record_inputs["columns"] = columns
        record = run_record(
            inputs=record_inputs,
            parameters={"in_force_on": on.isoformat(), "values": policy.resolved(on),
                        "budget_override": budget, "policy": policy.as_record(),
                        "cases_read": cases.reading, "skip_bad_rows": skip_bad_rows},
            extra={"kind": "settle", "year": cases.year},
        )
        folder.write_table("case_points", result.case_points, parquet)
        folder.write_table("hospital_settlement", result.hospitals, parquet)
        folder.write_table("hospital_indicators", result.indicators, parquet)
        folder.write_json("summary.json", result.summary)
        if cases.rejected is not None:
            cases.rejected.to_csv(folder.path("rejected_rows.csv"), index=False,
                                  encoding="utf-8-sig")
        folder.write_json("run_record.json", record)
        if errors is not None:
            write_errors(errors, problems_frame([], None) if cases.problems is None
                         else cases.problems)
        bar.update(1)
        path = folder.commit()
        bar.update(1)
    return result, path


def check_errors_file(errors: Path, inputs: list[Path], out_folder: Path) -> None:
    """``--errors FILE``: a CSV path drgsim may write (new, or an errors file it wrote before),
    outside the output folder and not an input."""
    import os

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


def whole_file_problem(error: InputError):
    """A whole-file problem (a missing column, an undecodable byte …) as the errors list."""
    import pandas as pd

    return pd.DataFrame([{"row": None, "line": None, "column": error.where or "",
                          "field": "", "value": "", "problem": error.problem,
                          "expected": error.expected or ""}])


def write_errors(errors: Path, frame) -> None:
    """Every problem, one row each (UTF-8 with BOM, so that Excel shows Chinese values)."""
    write_files_atomically(
        {errors: lambda path: frame.to_csv(path, index=False, encoding="utf-8-sig")},
        "--errors")

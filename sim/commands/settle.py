"""`drgsim settle` end to end: load and validate every input, settle, write the run folder.

The output folder is checked and staged first; inputs are validated completely before anything is
written into it; the folder appears whole or not at all (see :mod:`sim.store`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tqdm import tqdm

from sim.inputs.cases import load_cases
from sim.inputs.catalogue import load_catalogue
from sim.inputs.extract import problems_frame
from sim.inputs.policy import load_policy
from sim.settlement import Settlement, settle
from sim.store import (
    RunFolder,
    check_errors_file,
    problems_listed,
    run_record,
    write_errors,
)


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
        with problems_listed(errors, cases_path):
            cases = load_cases(cases_path, catalogue, policy.levels, year, encoding=encoding,
                               columns=columns, skip_bad_rows=skip_bad_rows)
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
        if result.alliances is not None:  # county alliances and their packages (§2.8)
            folder.write_table("alliance_settlement", result.alliances, parquet)
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

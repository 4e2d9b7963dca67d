"""`drgsim settle` end to end: load and validate every input, settle, write the run folder.

Inputs are validated completely before anything is written; the folder appears whole or not at
all (see :mod:`sim.store`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sim.cases import load_cases
from sim.catalogue import load_catalogue
from sim.policy import load_policy
from sim.settlement import Settlement, settle
from sim.store import RunFolder, run_record


def settle_to_folder(cases_path: Path, catalogue_path: Path, policy_path: Path,
                     reforms: list[Path], budget: float | None, year: int | None, out: Path,
                     parquet: bool = True) -> tuple[Settlement, Path]:
    policy = load_policy(policy_path, reforms)
    catalogue = load_catalogue(catalogue_path)
    cases = load_cases(cases_path, catalogue, policy.levels, year)
    result = settle(cases, catalogue, policy, budget)
    on = dt.date(cases.year, 1, 1)
    record = run_record(
        inputs={"cases": cases_path, "catalogue": catalogue_path, "policy": policy.files},
        parameters={"in_force_on": on.isoformat(), "values": policy.resolved(on),
                    "budget_override": budget, "policy": policy.as_record()},
        extra={"kind": "settle", "year": cases.year},
    )
    with RunFolder(out) as folder:
        folder.write_table("case_points", result.case_points, parquet)
        folder.write_table("hospital_settlement", result.hospitals, parquet)
        folder.write_table("hospital_indicators", result.indicators, parquet)
        folder.write_json("summary.json", result.summary)
        folder.write_json("run_record.json", record)
        path = folder.commit()
    return result, path

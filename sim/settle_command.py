"""`drgsim settle` end to end: load and validate every input, settle, write the run folder.

The output folder is checked and staged first; inputs are validated completely before anything is
written into it; the folder appears whole or not at all (see :mod:`sim.store`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tqdm import tqdm

from sim.cases import load_cases
from sim.catalogue import load_catalogue
from sim.policy import load_policy
from sim.settlement import Settlement, settle
from sim.store import RunFolder, run_record


def settle_to_folder(cases_path: Path, catalogue_path: Path, policy_path: Path,
                     reforms: list[Path], budget: float | None, year: int | None, out: Path,
                     parquet: bool = True, progress: bool | None = None,
                     create_parent: bool = False) -> tuple[Settlement, Path]:
    """Load, validate, settle and write; a stage progress bar on a terminal (``progress=None``
    shows it only when stderr is a terminal)."""
    folder = RunFolder(out, inputs=[cases_path, catalogue_path, policy_path, *reforms],
                       create_parent=create_parent)
    with folder, tqdm(total=4, desc="settle", unit="stage", leave=False,
                      disable=None if progress is None else not progress) as bar:
        bar.set_postfix_str("reading the policy, catalogue and cases")
        policy = load_policy(policy_path, reforms)
        folder.check_inputs(policy.files)
        catalogue = load_catalogue(catalogue_path)
        cases = load_cases(cases_path, catalogue, policy.levels, year)
        bar.update(1)
        bar.set_postfix_str(f"settling {len(cases):,} cases")
        result = settle(cases, catalogue, policy, budget)
        bar.update(1)
        bar.set_postfix_str("writing the run folder")
        on = dt.date(cases.year, 1, 1)
        record = run_record(
            inputs={"cases": cases_path, "catalogue": catalogue_path, "policy": policy.files},
            parameters={"in_force_on": on.isoformat(), "values": policy.resolved(on),
                        "budget_override": budget, "policy": policy.as_record()},
            extra={"kind": "settle", "year": cases.year},
        )
        folder.write_table("case_points", result.case_points, parquet)
        folder.write_table("hospital_settlement", result.hospitals, parquet)
        folder.write_table("hospital_indicators", result.indicators, parquet)
        folder.write_json("summary.json", result.summary)
        folder.write_json("run_record.json", record)
        bar.update(1)
        path = folder.commit()
        bar.update(1)
    return result, path

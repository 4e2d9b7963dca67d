"""`drgsim compare`: run baseline and reforms with replications, write tables, charts, briefing.

The folder holds ``replications/<table>.parquet|csv`` (one row per scenario × replication ×
key), ``comparison_yearly``, ``comparison_by_level``, ``comparison_by_hospital``,
``comparison_pressure`` (baseline, reform, difference with 5th–95th percentiles),
``comparison.json`` (scenarios, seeds, differing parameters, headline numbers), a run record,
``charts/<lang>/``, ``report.<lang>.html`` and ``report.<lang>.pdf`` (both languages unless one
is asked for). ``drgsim report DIR`` rebuilds charts and reports from these stored tables
without re-running anything. The output folder is checked and staged before
the first run (:class:`sim.store.RunFolder`).
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from pathlib import Path

from sim.experiments.compare import RAW_TABLES, compare, headline
from sim.resources import resolve
from sim.store import RunFolder, run_record


def compare_to_folder(scenario: str, baseline: str, reforms: list[Path], replications: int,
                      seed: int, years: int, start_year: int, scale: float, out: Path,
                      lang: str | None = None, executor: Executor | None = None,
                      progress: bool = True, briefing: bool = True,
                      create_parent: bool = False,
                      catalogue: str | None = None, parameter_draws: int | str | None = 0,
                      ensemble: str | None = None, pdf: bool = True) -> tuple[Path, dict]:
    """Run the comparison and write its folder (with charts and reports when ``briefing``: in
    ``lang``, default both languages, with PDFs when ``pdf``); ``catalogue`` (``--catalogue``)
    replaces the region's catalogue in every run. ``meta["briefing"]`` lists the reports
    written and one line for each PDF that could not be printed."""
    from sim.report.briefing import build_briefing, languages  # matplotlib: loaded when used

    named = [resolve(scenario, "regions", ".yaml"), resolve(baseline, "policies", ".yaml"),
             *reforms]
    folder = RunFolder(out, inputs=named, create_parent=create_parent)
    with folder:
        started = time.perf_counter()
        raw, summaries, scenarios, meta = compare(
            scenario, baseline, reforms, replications, seed, years, start_year, scale, executor,
            progress, on_loaded=folder.check_inputs, catalogue=catalogue,
            parameter_draws=parameter_draws, ensemble=ensemble)
        meta["seconds"] = round(time.perf_counter() - started, 2)
        meta["languages"] = languages(lang)
        meta["headline"] = {s.label: headline(summaries, meta, s.label) for s in scenarios[1:]}
        policy_files = sorted({f for s in scenarios for f in s.policy.files})
        record = run_record(
            inputs={"region": [meta["region"], *meta["region_tables"]],
                    "catalogue": meta["catalogue"],
                    "policies": policy_files,
                    **({"ensemble": meta["parameter_draws"]["ensemble"]}
                       if meta["parameter_draws"] else {})},
            parameters={"scenarios": [{"label": s.label, "policy": s.policy.as_record()}
                                      for s in scenarios],
                        "catalogue": {"path": meta["catalogue"],
                                      "from": meta["catalogue_from"]},
                        "years": years, "start_year": start_year, "scale": scale},
            seeds={"root": seed, "replications": meta["replication_seeds"],
                   **({"parameter_draws": meta["parameter_draws"]}
                      if meta["parameter_draws"] else {})},
            extra={"kind": "compare", "seconds": meta["seconds"], "warnings": meta["warnings"]},
        )
        folder.path("replications").mkdir(exist_ok=True)
        for name in RAW_TABLES:
            folder.write_table(f"replications/{name}", raw[name])
        for name, table in summaries.items():
            folder.write_table(name, table)
        folder.write_json("comparison.json", meta)
        folder.write_json("run_record.json", record)
        written = build_briefing(folder.partial, lang, pdf=pdf) if briefing else None
        path = folder.commit()
        if written is not None:
            meta["briefing"] = {"reports": [path / p.name for p in written.pages + written.pdfs],
                                "notes": written.notes}
    return path, meta

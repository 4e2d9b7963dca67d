"""`drgsim run`: build the region, run the calendar, write the run folder (tables, charts in
Chinese and English, and a short report of the run, ``report.<lang>.html`` and ``.pdf``).

The output folder is checked and staged before the simulation starts (:class:`sim.store.RunFolder`).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

# Mesa first, before pandas and the rest of drgsim are loaded: its modules name their loggers
# through inspect.stack(), whose cost grows with the modules already loaded and the depth of
# the import (measured: ~0.3 s of CPU less for importing this command; issue 13)
import mesa  # noqa: F401

from sim.inputs.alliances import as_mapping
from sim.inputs.policy import check_in_force, load_policy
from sim.inputs.region import (
    catalogue_path,
    check_scale,
    load_region_config,
    region_tables,
    use_catalogue,
)
from sim.model.calendar import run_calendar
from sim.model.model import RegionModel
from sim.resources import resolve
from sim.settlement import alliances_in_force
from sim.store import RunFolder, run_record

TABLES = ("monthly", "yearly", "yearly_by_level", "hospital_yearly", "fund_by_scheme",
          "pressure_by_level_mdc", "alliance_yearly")  # the last only with county alliances


def run_to_folder(scenario: str, policy_name: str, reforms: list[Path], years: int,
                  start_year: int, seed: int, out: Path, scale: float = 1.0,
                  progress: bool = True, charts: bool = True, create_parent: bool = False,
                  catalogue: str | None = None, lang: str | None = None, pdf: bool = True):
    """Run the region model and write its folder; return the tables, the folder, the seconds,
    the policy and warnings. ``catalogue`` (``--catalogue``: a file or a shipped name) replaces
    the region's catalogue; the run record names the catalogue used and its sha256. With
    ``charts``, the charts and the run's report in ``lang`` (default both languages; PDFs
    when ``pdf``), from the stored tables; a PDF that cannot be printed is one warning."""
    policy_path = resolve(policy_name, "policies", ".yaml")
    folder = RunFolder(out, inputs=[resolve(scenario, "regions", ".yaml"), policy_path,
                                    *reforms], create_parent=create_parent)
    with folder:
        config, region_path = load_region_config(scenario)
        warnings: list[str] = []
        if catalogue is not None:
            config, _, warnings = use_catalogue(config, region_path, catalogue)
        check_scale(config, scale)
        policy = load_policy(policy_path, reforms)
        check_in_force(policy, start_year)
        catalogue_file = catalogue_path(config, None)
        tables_beside = region_tables(config)  # a built region's CSV tables
        folder.check_inputs([region_path, catalogue_file, *tables_beside, *policy.files])
        started = time.perf_counter()
        model = RegionModel(config, policy, start_year=start_year, years=years, seed=seed,
                            scale=scale)
        run_calendar(model, progress=progress)
        warnings += model.warnings  # dated values changed inside a year and not applied
        tables = model.tables()
        seconds = time.perf_counter() - started
        record = run_record(
            inputs={"region": [region_path, *tables_beside], "catalogue": catalogue_file,
                    "policy": policy.files},
            parameters={"values_at_start": policy.resolved(dt.date(start_year, 1, 1)),
                        # the region as run: behavioural values a reform sets included
                        "policy": policy.as_record(), "region": model.config,
                        "catalogue": {"path": str(catalogue_file),
                                      "from": "--catalogue" if catalogue is not None
                                      else "region"},
                        "years": years, "start_year": start_year, "scale": scale,
                        # county alliances (§2.8) of the region; a policy's replace them
                        "region_alliances": as_mapping(model.region.alliances),
                        "alliances_from": alliances_in_force(
                            policy, dt.date(start_year, 1, 1), model.region.alliances)[1]},
            seeds={"root": seed, "streams": "SeedSequence(entropy=root, spawn_key=(stream, "
                                            "year, month))"},
            extra={"kind": "run", "seconds": round(seconds, 2), "warnings": warnings},
        )
        for name in TABLES:
            if name in tables:
                folder.write_table(name, tables[name])
        folder.write_json("run_record.json", record)
        if charts:
            from sim.report.run_report import build_run_report  # matplotlib: only when drawn

            warnings += build_run_report(folder.partial, lang, pdf=pdf).notes
        path = folder.commit()
    return tables, path, seconds, policy, warnings

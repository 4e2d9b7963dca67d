"""Time ``drgsim region build`` on a large model-made year (issue 10: about 1 M cases).

The year is the default region's fee-for-service year at ``--scale`` (1.8 gives ~1 M cases),
written once to ``--work`` (default ``/tmp/drgsim-region-bench``: a case CSV, the hospital list
and the insured file, as :func:`calibration.region_build.model_year_extract` hands them over);
then ``drgsim region build`` is run ``--repeat`` times in a child process and its wall time
printed. Nothing is written inside the repository.

    .venv/bin/python benchmarks/region_build.py [--scale 1.8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import yaml


def make_year(folder: Path, scale: float) -> Path:
    from calibration.region_build import model_year_extract
    from sim.inputs.policy import load_policy
    from sim.inputs.region import load_region_config
    from sim.model.calendar import run_calendar
    from sim.model.model import RegionModel
    from sim.resources import shipped

    cases_path = folder / f"cases_{scale:g}.csv"
    if cases_path.is_file():
        return cases_path
    folder.mkdir(parents=True, exist_ok=True)
    config, _ = load_region_config("default")
    model = RegionModel(config, load_policy(shipped("policies", "ffs", ".yaml")),
                        start_year=2023, years=1, seed=1, scale=scale)
    run_calendar(model, progress=False)
    cases, hospitals, insured = model_year_extract(model)
    cases.to_csv(cases_path, index=False)
    hospitals.to_csv(folder / f"hospitals_{scale:g}.csv", index=False)
    (folder / f"insured_{scale:g}.yaml").write_text(yaml.safe_dump(insured), "utf-8")
    return cases_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/drgsim-region-bench"))
    args = parser.parse_args()
    cases = make_year(args.work, args.scale)
    rows = sum(1 for _ in cases.open("rb")) - 1
    drgsim = Path(sys.executable).with_name("drgsim")
    for attempt in range(args.repeat):
        out = args.work / f"built_{attempt}.yaml"
        for old in args.work.glob(f"built_{attempt}.*"):
            old.unlink()
        started = time.perf_counter()
        subprocess.run([str(drgsim), "region", "build", "--cases", str(cases), "--catalogue",
                        "guangxi_2022", "--hospitals",
                        str(args.work / f"hospitals_{args.scale:g}.csv"), "--insured",
                        str(args.work / f"insured_{args.scale:g}.yaml"), "--out", str(out)],
                       check=True, capture_output=True)
        print(f"region build, {rows:,} cases: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

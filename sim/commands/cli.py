"""The ``drgsim`` command line: settle a year, show parameters, import catalogues, build regions,
run the example.

Every user error prints one line ``drgsim: error: <file>, <where>: <problem>; expected <...>``
and exits with code 2; no traceback and no partial output. Argument errors are one line too (the
usage stays behind ``--help``) and every numeric argument is bounded. An unexpected failure is one
line with exit code 1 (``DRGSIM_DEBUG=1`` shows the traceback); Ctrl-C and SIGTERM remove what was
being written and exit with 130.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import signal
import sys
import time
from pathlib import Path

from sim.errors import InputError
from sim.memory import keep_freed_memory

EXIT_USAGE = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130
MAX_YUAN = 1e13  # ten trillion yuan: above any fund's budget (sim.inputs.cases.MAX_TOTAL_YUAN)
DEFAULT_OUT = {"run": "outputs/run", "compare": "outputs/compare", "example": "outputs/example"}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the message and where to read the expected form."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = message.replace("\n", " ")
        self.exit(EXIT_USAGE, f"drgsim: error: {message}; see '{self.prog} --help'\n")


def _bounded(convert, accept, expected: str):
    """An argparse type: ``convert(text)``, kept when ``accept(value)``; else one line saying
    what was expected."""

    def parse(text: str):
        try:
            value = convert(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"value {text!r}; expected {expected}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"value {text.strip()}; expected {expected}")
        return value

    return parse


def _whole(low: int, high: int, what: str, digits: str = ","):
    """A whole number in [low, high] (``digits=""`` prints years as 2023)."""
    return _bounded(int, lambda value: low <= value <= high,
                    f"{what}, a whole number from {low:{digits}} to {high:{digits}}")


def _positive(high: float, what: str):
    """A finite number in (0, high]."""
    return _bounded(float, lambda value: math.isfinite(value) and 0 < value <= high,
                    f"{what}, a number above 0 and at most {high:g}")


_amount = _bounded(float, lambda value: math.isfinite(value) and 0 <= value <= MAX_YUAN,
                   f"an amount in yuan from 0 to {MAX_YUAN:.0e}")


SEED = _whole(0, 2**63 - 1, "a seed")
YEARS = _whole(1, 50, "a number of years")
YEAR = _whole(1990, 2100, "a calendar year", digits="")
REPLICATIONS = _whole(1, 10_000, "a number of replications")
SCALE = _positive(100.0, "a population scale")
MIN_CASES = _whole(1, 1_000_000_000, "a minimum number of cases")
WORKERS = _whole(1, 4096, "a number of workers")
BUDGET = _whole(10, 100_000_000, "a number of model runs")
DRAWS = _whole(0, 10_000, "a number of parameter draws (0: none)")
DENSITY = _bounded(float, lambda value: math.isfinite(value) and 0 < value <= 1,
                   "a density above 0 and at most 1")


def TRIM(text: str) -> str:  # noqa: N802 - an argparse type, named like the others
    """A §1.3 trimming rule: none, sd:K or pct:LO,HI."""
    from sim.rules.weights import Trim

    try:
        return str(Trim.parse(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"value {text!r}; expected {error}") from None


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="drgsim",
        description="Test hospital payment reforms (DRG/DIP) before they are rolled out.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    settle = commands.add_parser(
        "settle", help="settle a year of cases under a payment policy (the simulated year, §8)",
        description="Pay last year's cases under a policy: points, point value, per-hospital "
                    "payments and the comparison with fee-for-service.")
    settle.add_argument("cases", help="case table, one row per discharge: CSV (UTF-8, GBK or "
                                      "UTF-16), Parquet or Excel; English or Chinese headers")
    settle.add_argument("--catalogue", required=True,
                        help="catalogue file, or a shipped name (e.g. guangxi_2022)")
    settle.add_argument("--policy", required=True,
                        help="policy YAML, or a shipped name (point, rate, pool, all_inclusive, "
                             "dip, ffs)")
    settle.add_argument("--reform", action="append", default=[], metavar="R",
                        help="reform YAML applied on top of the policy (repeatable, in order)")
    settle.add_argument("--budget", type=_amount, metavar="YUAN",
                        help="annual DRG budget in yuan (point method); overrides budget.annual")
    settle.add_argument("--year", type=YEAR, help="settlement year (default: the cases' "
                                                  "most common discharge year)")
    settle.add_argument("--out", required=True, metavar="DIR",
                        help="output folder: new, empty, or an earlier drgsim output")
    settle.add_argument("--no-parquet", action="store_true", help="write CSV only")
    settle.add_argument("--quiet", action="store_true", help="print only the summary line")
    _reading_options(settle, "case table",
                     "settle the good rows; put the others in rejected_rows.csv")

    params = commands.add_parser("params", help="print a policy's resolved parameter tree")
    params.add_argument("policy", help="policy YAML, or a shipped name")
    params.add_argument("--reform", action="append", default=[], metavar="R")
    params.add_argument("--date", help="date the values are in force (default: today)")
    params.add_argument("--region", default="default",
                        help="region whose behavioural parameters are shown (behaviour.*; "
                             "default: the embedded region)")

    catalogue = commands.add_parser("catalogue", help="catalogue tools")
    catalogue_commands = catalogue.add_subparsers(dest="catalogue_command", required=True,
                                                  metavar="ACTION")
    importer = catalogue_commands.add_parser(
        "import", help="convert a published city DRG table to the drgsim catalogue format")
    importer.add_argument("file", help="city table with Chinese headers: CSV (UTF-8, GBK or "
                                       "UTF-16), Excel (.xlsx, .xls) or Parquet")
    importer.add_argument("--out", required=True, metavar="CAT",
                          help="catalogue CSV to write (a new file, or one drgsim imported)")
    importer.add_argument("--encoding", metavar="NAME",
                          help="encoding of a CSV city table (default: detected; e.g. gbk, "
                               "utf-8)")

    calibrate = commands.add_parser("calibrate", help="calibrate from historical data (§1)")
    calibrate_commands = calibrate.add_subparsers(dest="calibrate_command", required=True,
                                                  metavar="WHAT")
    weights = calibrate_commands.add_parser(
        "weights", help="weights, coefficients and rates per level from cost data (§1)",
        description="A catalogue's weights (trimmed group mean ÷ trimmed overall mean), level "
                    "coefficients and rates per level from a year of cases or of group means, "
                    "against the previous catalogue; writes CAT.csv with its source card, a "
                    "rates reform and a report (CAT.csv.source.yaml, .rates.yaml, .report.md, "
                    ".report.csv).")
    weights.add_argument("cases", help="cost data, CSV (UTF-8, GBK or UTF-16), Parquet or Excel: "
                                       "one row per case (drg, cost[, hospital_level]) or per "
                                       "group (drg, cases, mean_cost[, hospital_level])")
    weights.add_argument("--catalogue", required=True,
                         help="previous catalogue (groups, flags, weights kept below the "
                              "minimum): a file or a shipped name")
    weights.add_argument("--min-cases", type=MIN_CASES, default=30, metavar="N",
                         help="groups with fewer cases keep their previous weight (§1.2; "
                              "default 30)")
    weights.add_argument("--trim", type=TRIM, metavar="RULE",
                         help="cost outliers dropped before the means (§1.3): none, sd:K or "
                              "pct:LO,HI (default sd:3 for cases, none for group means)")
    weights.add_argument("--overrides", metavar="FILE",
                         help="YAML with expert weights (weights: {code: weight}, §1.4) and "
                              "designated groups priced below the minimum (designated: [codes])")
    weights.add_argument("--out", required=True, metavar="CAT",
                         help="catalogue CSV to write (a new file, or one this command wrote)")
    _reading_options(weights, "cost data", "calibrate from the good rows; list the others in "
                     "the report and in CAT.csv.rejected_rows.csv")

    behaviour = calibrate_commands.add_parser(
        "behaviour", help="fit the behavioural parameters to published reform effects",
        description="Fit the behavioural parameters named in the targets file to its fitted "
                    "targets by simulation (a Latin hypercube over their priors; each point "
                    "runs fee-for-service and each method a target needs on the same seed), "
                    "ABC with a regression adjustment; report every target, fitted and held "
                    "out. The runs are a sweep stored in DIR (resumable: run the same command "
                    "again); the analysis goes to DIR/calibration.")
    behaviour.add_argument("--targets", metavar="FILE",
                           help="targets, priors and fit settings (default: the shipped "
                                "calibration/targets.yaml)")
    behaviour.add_argument("--region", metavar="R",
                           help="region file or shipped name (default: the targets file's "
                                "fit.region)")
    behaviour.add_argument("--budget", type=BUDGET, metavar="RUNS",
                           help="model runs of the fit (design points × scenarios × "
                                "replications; default: the targets file's fit.budget)")
    behaviour.add_argument("--executor", choices=["serial", "processes", "dask"],
                           default="processes", help="where runs go, as for drgsim sweep")
    behaviour.add_argument("--workers", type=WORKERS, metavar="N",
                           help="local worker processes (default: the number of cores)")
    behaviour.add_argument("--scheduler", metavar="ADDRESS",
                           help="a running Dask scheduler for --executor dask")
    behaviour.add_argument("--out", required=True, metavar="DIR",
                           help="fit folder: new, empty, or this fit's own earlier folder")

    region = commands.add_parser("region", help="region tools")
    region_commands = region.add_subparsers(dest="region_command", required=True,
                                            metavar="ACTION")
    builder = region_commands.add_parser(
        "build", help="a region file from a year of discharges, the hospital list and the "
                      "insured",
        description="Measure a region from a bureau's data: hospitals, volumes, cost per case "
                    "and case mix, incidence by family and severity, scheme mix, counties. "
                    "Writes REGION.yaml (every value marked measured or assumed in its "
                    "`sources`) with REGION.hospitals.csv and REGION.families.csv beside it; "
                    "run it with `drgsim run REGION.yaml`.")
    builder.add_argument("--cases", required=True, metavar="CASES",
                         help="a year of discharges, as for drgsim settle (CSV, Parquet or "
                              "Excel; English or Chinese headers)")
    builder.add_argument("--catalogue", required=True, metavar="CAT",
                         help="the catalogue of the cases' groups: a file or a shipped name")
    builder.add_argument("--hospitals", metavar="HOSPITALS.csv",
                         help="the hospital list: hospital_id, name, level, county, beds, "
                              "ownership [, lat, lon] (医院编码, 等级, 所在区县, 床位数, 公立/民营 "
                              "…); without it: one county, beds from bed-days (assumed)")
    builder.add_argument("--insured", metavar="INSURED.yaml",
                         help="{employee: {insured, contribution_per_insured, fund_balance}, "
                              "resident: {...}}; without it: insured from the default "
                              "admission rates (assumed)")
    builder.add_argument("--title", help="the region's title (default: from the cases file)")
    builder.add_argument("--out", required=True, metavar="REGION.yaml",
                         help="region file to write (new, or one drgsim region build wrote); "
                              "its two tables go beside it")
    builder.add_argument("--encoding", metavar="NAME",
                         help="encoding of CSV inputs (default: detected; e.g. gbk, utf-8)")
    builder.add_argument("--columns", metavar="MAP.yaml",
                         help="YAML {drgsim column: header in the file} for case-table headers "
                              "drgsim does not know")

    run = commands.add_parser(
        "run", help="run the region model over several years under a policy",
        description="Simulate hospitals and patients responding to a payment policy, month by "
                    "month: fund balance, upcoding, referrals, hospital finances.")
    run.add_argument("scenario", nargs="?", default="default",
                     help="region YAML or a shipped region name (default: the embedded region)")
    run.add_argument("--policy", default="point", help="policy YAML or shipped name")
    run.add_argument("--catalogue", metavar="CAT",
                     help="catalogue file or shipped name (e.g. beijing_2022) instead of the "
                          "region's")
    run.add_argument("--reform", action="append", default=[], metavar="R")
    run.add_argument("--years", type=YEARS, default=5, help="years to simulate (1-50)")
    run.add_argument("--start-year", type=YEAR, default=2023, help="first year (1990-2100)")
    run.add_argument("--seed", type=SEED, default=1, help="root seed, a whole number >= 0")
    run.add_argument("--scale", type=SCALE, default=1.0,
                     help="multiply the insured population, in (0, 100] (e.g. 0.1 for a quick "
                          "look)")
    run.add_argument("--out", default=DEFAULT_OUT["run"], metavar="DIR",
                     help="output folder: new, empty, or an earlier drgsim output")
    run.add_argument("--lang", choices=["zh", "en"],
                     help="write the charts and the run's report (HTML and PDF) in this "
                          "language only (default: both, report.zh.* and report.en.*)")
    run.add_argument("--no-charts", action="store_true", help="no charts and no report")

    compare = commands.add_parser(
        "compare", help="compare reforms with a baseline, with replications, and brief it",
        description="Run the baseline policy and each reform on the same region with the same "
                    "random streams per replication; write per-year baseline, reform and "
                    "difference with 5th-95th percentile intervals, charts and reports "
                    "(report.zh.html, report.en.html and their PDFs).")
    compare.add_argument("scenario", nargs="?", default="default",
                         help="region YAML or shipped region name (default: the embedded one)")
    compare.add_argument("--reform", action="append", required=True, metavar="R",
                         help="reform YAML (a delta on the baseline) or a whole policy file; "
                              "repeatable; shipped names from scenarios/reforms work too")
    compare.add_argument("--baseline", default="point", help="baseline policy (default point)")
    compare.add_argument("--catalogue", metavar="CAT",
                         help="catalogue file or shipped name (e.g. beijing_2022) instead of "
                              "the region's, in every run")
    compare.add_argument("--replications", type=REPLICATIONS, default=8,
                         help="replications per scenario (1-10,000)")
    compare.add_argument("--seed", type=SEED, default=1, help="root seed, a whole number >= 0")
    compare.add_argument("--years", type=YEARS, default=5, help="years to simulate (1-50)")
    compare.add_argument("--start-year", type=YEAR, default=2023, help="first year (1990-2100)")
    compare.add_argument("--scale", type=SCALE, default=1.0,
                         help="multiply the insured population, in (0, 100]")
    compare.add_argument("--parameter-draws", type=DRAWS, default=None, metavar="N",
                         help="behavioural parameter sets from the region's calibrated "
                              "ensemble, paired across scenarios, so that intervals carry what "
                              "we do not know about behaviour as well as noise. Default: each "
                              "replication runs its own set (where an ensemble ships or "
                              "--ensemble is given); N: N sets, each with every replication's "
                              "seed, and the share of each source reported (runs: N x "
                              "replications); 0: the region's central values only")
    compare.add_argument("--ensemble", metavar="FILE",
                         help="ensemble CSV to draw from (default: the shipped one of the "
                              "region, calibration/ensembles/<region>.csv)")
    compare.add_argument("--lang", choices=["zh", "en"],
                         help="write the report (HTML and PDF) and charts in this language only "
                              "(default: both, report.zh.* and report.en.*)")
    compare.add_argument("--out", default=DEFAULT_OUT["compare"], metavar="DIR",
                         help="output folder: new, empty, or an earlier drgsim output")

    sweep = commands.add_parser(
        "sweep", help="run a sweep: a design over policy and behavioural parameters, resumable",
        description="Run every design point × replication of a sweep file (scenarios/sweeps/): "
                    "the baseline and each reform paired on the same seed; each finished job "
                    "is stored at once, so running the same command again resumes. The "
                    "result is DIR/results.parquet (one row per job × scenario × year).")
    sweep.add_argument("spec", nargs="?", metavar="SPEC",
                       help="sweep YAML or a shipped name (e.g. tiny_grid)")
    sweep.add_argument("--executor", choices=["serial", "processes", "dask"],
                       default="processes",
                       help="where jobs run (default: local processes; dask: a Dask "
                            "cluster, needs pip install 'drgsim[cluster]')")
    sweep.add_argument("--workers", type=WORKERS, metavar="N",
                       help="local worker processes, for processes or a local Dask cluster "
                            "(default: the number of cores)")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="a running Dask scheduler (tcp://HOST:8786) for --executor dask; "
                            "without it a local Dask cluster is started and closed at the end")
    sweep.add_argument("--out", metavar="DIR", help="sweep folder: new, empty, or this sweep's "
                                                    "own earlier folder (default "
                                                    "outputs/sweeps/<SPEC name>)")
    sweep.add_argument("--status", metavar="DIR",
                       help="summarise a sweep folder (done, failed, remaining) and exit")

    sensitivity = commands.add_parser(
        "sensitivity", help="sensitivity indices, charts and PRIM boxes of a finished sweep",
        description="Sobol' or Morris indices (by the sweep's design; regression coefficients "
                    "for a grid or Latin hypercube) per outcome with 95% intervals, a tornado, "
                    "outcome-vs-parameter scatters and, with --condition, PRIM boxes: the "
                    "parameter ranges that lead there. Replications are averaged per design "
                    "point first. Writes OUTDIR (default DIR/sensitivity).")
    sensitivity.add_argument("folder", metavar="DIR", help="a finished drgsim sweep folder")
    sensitivity.add_argument("--outcome", action="append", metavar="NAME",
                             help="an outcome column (repeatable; default the sweep's outcomes)")
    sensitivity.add_argument("--year", type=YEAR, help="year analysed (default the last)")
    sensitivity.add_argument("--scenario", action="append", metavar="S",
                             help="baseline, a reform, or REFORM-baseline (the paired "
                                  "difference per job); repeatable; default the baseline and "
                                  "each reform's difference; PRIM uses the first")
    sensitivity.add_argument("--groups", metavar="FILE.yaml",
                             help="YAML {group: [parameter path, ...]} (default: the sweep "
                                  "file's own groups)")
    sensitivity.add_argument("--condition", metavar="EXPR",
                             help="PRIM scenario discovery for OUTCOME OP NUMBER, e.g. "
                                  "\"reserve_months_resident < 6\" (OP: < <= > >= ==)")
    sensitivity.add_argument("--density-min", type=DENSITY, metavar="D",
                             help="PRIM: choose the box with the most coverage among those with "
                                  "density >= D (default 0.8; else the knee)")
    sensitivity.add_argument("--out", metavar="OUTDIR",
                             help="output folder: new, empty, or an earlier drgsim output "
                                  "(default DIR/sensitivity)")

    report = commands.add_parser("report", help="rebuild the charts and reports (report.zh.html, "
                                 "report.en.html and their PDFs) of a comparison or a run from "
                                 "its stored results")
    report.add_argument("folder", metavar="RUN_DIR")
    report.add_argument("--lang", choices=["zh", "en"],
                        help="rebuild this language only (default: both); the other "
                             "language's files are left as they are")

    example = commands.add_parser(
        "example", help="settle the shipped example year and print the per-hospital table")
    example.add_argument("--out", default=DEFAULT_OUT["example"], metavar="DIR")
    example.add_argument("--policy", default="point")
    return parser


def _reading_options(parser: argparse.ArgumentParser, what: str, skip_help: str) -> None:
    """How to read a bureau's table (sim.inputs.extract): encoding, column map, problems."""
    parser.add_argument("--encoding", metavar="NAME",
                        help=f"encoding of a CSV {what} (default: detected; e.g. gbk, utf-8)")
    parser.add_argument("--columns", metavar="MAP.yaml",
                        help="YAML {drgsim column: header in the file} for headers drgsim does "
                             "not know")
    parser.add_argument("--errors", metavar="FILE.csv",
                        help=f"write every problem found in the {what} to this CSV")
    parser.add_argument("--skip-bad-rows", action="store_true", help=skip_help)


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a one-line argument error (2)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    commands = {"settle": command_settle, "params": command_params,
                "catalogue": command_catalogue_import, "calibrate": command_calibrate,
                "region": command_region_build,
                "run": command_run,
                "compare": command_compare, "sweep": command_sweep, "report": command_report,
                "sensitivity": command_sensitivity,
                "example": command_example}
    keep_freed_memory()  # a run's monthly arrays reuse freed pages (sim.memory)
    # the modules imported so far (Mesa, pandas, drgsim: ~80 k objects) are never garbage: out
    # of the collector's full passes, which otherwise scan them again and again (issue 13:
    # ~0.2 s of a run at --scale 0.1)
    gc.freeze()
    previous = _terminate_as_interrupt()
    try:
        return commands[args.command](args)
    except InputError as error:
        print(f"drgsim: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("drgsim: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print("drgsim: error: out of memory; try a smaller --scale or fewer --replications",
              file=sys.stderr)
        return EXIT_FAILURE
    except OSError as error:
        if os.environ.get("DRGSIM_DEBUG"):
            raise
        place = f"{error.filename}: " if error.filename else ""
        print(f"drgsim: error: {place}{error.strerror or error}; nothing was written",
              file=sys.stderr)
        return EXIT_FAILURE
    except Exception as error:  # noqa: BLE001 - one line instead of a traceback, on purpose
        if os.environ.get("DRGSIM_DEBUG"):
            raise
        text = " ".join(str(error).split())[:300]
        print(f"drgsim: internal error: {type(error).__name__}: {text} (a bug: please report "
              "it with the command; DRGSIM_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate_as_interrupt():
    """SIGTERM raises KeyboardInterrupt, so staged output is removed as on Ctrl-C."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        return None


def _warn(lines: list[str]) -> None:
    for line in lines:
        print(f"drgsim: warning: {line}", file=sys.stderr)


def command_settle(args: argparse.Namespace) -> int:
    from sim.commands.settle import settle_to_folder
    from sim.resources import resolve

    started = time.perf_counter()
    result, folder = settle_to_folder(
        cases_path=Path(args.cases),
        catalogue_path=resolve(args.catalogue, "catalogues", ".csv"),
        policy_path=resolve(args.policy, "policies", ".yaml"),
        reforms=[resolve(r, "reforms", ".yaml") for r in args.reform],
        budget=args.budget, year=args.year, **_out(args), parquet=not args.no_parquet,
        progress=None if not args.quiet else False, encoding=_encoding(args.encoding),
        columns=None if args.columns is None else Path(args.columns),
        errors=None if args.errors is None else Path(args.errors),
        skip_bad_rows=args.skip_bad_rows)
    _warn(result.warnings)
    _print_settlement(result, folder, time.perf_counter() - started, quiet=args.quiet)
    return 0


def _encoding(name: str | None) -> str | None:
    from sim.inputs.extract import check_encoding

    return None if name is None else check_encoding(name)


def _print_settlement(result, folder: Path, seconds: float, quiet: bool = False) -> None:
    import pandas as pd

    summary = result.summary
    value = summary.get("annual_point_value")
    line = (f"Settled {summary['cases']:,} cases of {summary['hospitals']:,} hospitals, "
            f"{summary['year']}, {summary['method']} method")
    if value is not None:
        line += f"; budget ¥{summary['budget']:,.2f}; annual point value ¥{value:.6f}"
    for scheme, own in (summary.get("schemes") or {}).items():  # separate budgets (§2.1)
        if own.get("annual_point_value") is not None:
            line += (f"; {scheme} budget ¥{own['budget']:,.2f}, annual point value "
                     f"¥{own['annual_point_value']:.6f}")
    if summary.get("rate_by_level"):
        line += "; rate per weight unit " + ", ".join(
            f"{name} ¥{rate:,.2f}" for name, rate in summary["rate_by_level"].items()) + (
            f" ({summary['rate_source']})")
    print(line + f" -> {folder} ({seconds:.1f} s)")
    if quiet:
        return
    columns = ["hospital_id", "hospital_level", "cases", "points", "cmi", "cost",
               "ffs_fund_paid", "fund_payable", "monthly_prepaid", "year_end_payment"]
    table = result.hospitals[columns].copy()
    table["gain_vs_ffs"] = table["fund_payable"] - table["ffs_fund_paid"]
    shown = table if len(table) <= 30 else table.head(20)
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:,.2f}".format):
        print(shown.to_string(index=False))
    if len(table) > len(shown):
        print(f"... {len(table) - len(shown):,} more hospitals in {folder}/hospital_settlement.csv")
    classes = ", ".join(f"{k} {v:,}" for k, v in summary["case_classes"].items() if v)
    print(f"Case classes: {classes}")
    totals = summary["totals"]
    print(f"Fund pays ¥{totals['fund_payable']:,.2f} against ¥{totals['ffs_fund_paid']:,.2f} "
          f"fee-for-service ({totals['fund_payable'] - totals['ffs_fund_paid']:+,.2f})")
    for package in (summary.get("alliances") or {}).get("packages", []):  # §2.8
        print(f"Alliance {package['alliance']} (lead {package['lead']}, "
              f"{len(package['members'].split(';'))} members): fund payable "
              f"¥{package['fund_payable']:,.2f}, year end ¥{package['year_end_payment']:,.2f}, "
              f"paid to {package['paid_to'] or 'each member'}")


def command_params(args: argparse.Namespace) -> int:
    import datetime as dt

    from sim.inputs.policy import load_policy, parse_date
    from sim.resources import resolve

    policy = load_policy(resolve(args.policy, "policies", ".yaml"),
                         [resolve(r, "reforms", ".yaml") for r in args.reform])
    on = parse_date(args.date, "--date", "value") if args.date is not None else dt.date.today()
    _warn(policy.warnings)
    print("\n".join(policy.describe(on)))
    # one parameter tree: the region's behavioural parameters, by path (issue 11)
    from sim.inputs.behaviour import describe_behaviour
    from sim.inputs.region import load_region_config

    config, region_path = load_region_config(args.region)
    print("\n".join(describe_behaviour(config, str(region_path), policy.behaviour)))
    return 0


def command_calibrate(args: argparse.Namespace) -> int:
    if args.calibrate_command == "behaviour":
        return command_calibrate_behaviour(args)
    from calibration.weights import calibrate_weights, summary_lines
    from sim.resources import resolve

    out = Path(args.out)
    result = calibrate_weights(Path(args.cases), resolve(args.catalogue, "catalogues", ".csv"),
                               out, args.min_cases, args.trim,
                               Path(args.overrides) if args.overrides else None,
                               encoding=args.encoding,
                               columns_path=Path(args.columns) if args.columns else None,
                               errors_path=Path(args.errors) if args.errors else None,
                               skip_bad_rows=args.skip_bad_rows)
    _warn(result.warnings)
    print("\n".join(summary_lines(result, out)))
    return 0


def command_calibrate_behaviour(args: argparse.Namespace) -> int:
    import pandas as pd

    from calibration.behaviour import calibrate_behaviour
    from sim.experiments.sweep import WorkersLost

    if args.scheduler is not None and args.executor != "dask":
        raise InputError("--scheduler", None, f"given with --executor {args.executor}",
                         "--executor dask")
    if not args.out.strip():
        raise InputError("--out", None, "is empty", "a folder path")
    targets = args.targets
    if targets is None:
        from importlib import resources

        targets = str(Path(str(resources.files("calibration"))) / "targets.yaml")
    started = time.perf_counter()
    try:
        fit, folder = calibrate_behaviour(targets, args.out, region=args.region,
                                          budget=args.budget, executor=args.executor,
                                          workers=args.workers, scheduler=args.scheduler,
                                          on_warning=lambda line: _warn([line]))
    except KeyboardInterrupt:
        print(f"drgsim: interrupted; the finished runs are kept in {args.out}: run the same "
              "command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except WorkersLost as error:
        print(f"drgsim: error: {error}; the finished runs are kept in {args.out}: run the same "
              "command again to resume", file=sys.stderr)
        return EXIT_FAILURE
    summary = fit.summary
    print(f"{summary['title']}: {summary['points']} design points x {summary['replications']} "
          f"replications, {summary['kept']} kept")
    for row in fit.fit_table.to_dict("records"):
        if pd.notna(row.get("simulated_median")):
            print(f"  {row['target']} ({row['role']}): published {row['published']:+.4f} "
                  f"± {row['uncertainty']}, simulated {row['simulated_median']:+.4f} "
                  f"[{row['simulated_p05']:+.4f}, {row['simulated_p95']:+.4f}]: "
                  f"{row['status']}")
        else:
            print(f"  {row['target']} ({row['role']}): {row['status']}")
    _warn(fit.warnings)
    print(f"  -> {folder} ({time.perf_counter() - started:.1f} s)")
    return 0


def command_region_build(args: argparse.Namespace) -> int:
    from calibration.region_build import build_region_file

    started = time.perf_counter()
    if not args.out.strip():
        raise InputError("--out", None, "is empty", "a region path ending in .yaml")
    result = build_region_file(
        Path(args.cases), args.catalogue, Path(args.out),
        hospitals_path=Path(args.hospitals) if args.hospitals else None,
        insured_path=Path(args.insured) if args.insured else None, title=args.title,
        encoding=args.encoding, columns=Path(args.columns) if args.columns else None)
    _warn(result.warnings)
    for line in result.assumed:
        print(f"drgsim: assumed: {line}", file=sys.stderr)
    print("\n".join(result.lines))
    print(f"Wrote {args.out} with its hospitals and families tables "
          f"({time.perf_counter() - started:.1f} s); run it with: drgsim run {args.out}")
    return 0


def command_catalogue_import(args: argparse.Namespace) -> int:
    from sim.inputs.citytables import (
        import_city_table,
        imported_by_drgsim,
        source_card_path,
        write_imported_catalogue,
    )
    from sim.store import check_output_file

    if not args.out.strip():
        raise InputError("--out", None, "is empty", "a catalogue path ending in .csv")
    source, out = Path(args.file), Path(args.out)
    check_output_file(out, "--out", [source], ".csv", imported_by_drgsim, "catalogue")
    check_output_file(source_card_path(out), "--out (its source card)", [source], ".yaml",
                      imported_by_drgsim, "source card")
    table, report = import_city_table(source, encoding=args.encoding)
    write_imported_catalogue(table, report, source, out)
    print("\n".join(report.lines()))
    print(f"Wrote {len(table)} groups to {out}")
    return 0


def _out(args: argparse.Namespace) -> dict:
    """--out as a path; only the default ``outputs/…`` may have its parent folder created."""
    default = DEFAULT_OUT.get(args.command)
    if not args.out.strip():
        raise InputError("--out", None, "is empty", "a folder path")
    return {"out": Path(args.out), "create_parent": args.out == default}


def command_run(args: argparse.Namespace) -> int:
    from sim.commands.run import run_to_folder
    from sim.resources import resolve

    tables, folder, seconds, policy, warnings = run_to_folder(
        args.scenario, args.policy, [resolve(r, "reforms", ".yaml") for r in args.reform],
        args.years, args.start_year,
        args.seed, scale=args.scale, progress=True, charts=not args.no_charts,
        catalogue=args.catalogue, lang=args.lang, **_out(args))
    _warn(policy.warnings + warnings)
    yearly = tables["yearly"]
    print(f"{policy.title}: {args.years} years from {args.start_year}, seed {args.seed} -> "
          f"{folder} ({seconds:.1f} s)")
    # each scheme's fund as it is (§2.1, BEHAVIOUR §7), beside the pooled one
    columns = ["year", "admissions", "true_cmi", "coded_cmi", "upcoded_share",
               "annual_point_value", "fund_drg_spending", "fund_balance", "accumulated_balance",
               "reserve_months", "reserve_months_employee", "reserve_months_resident",
               "share_tertiary", "readmission_15d_rate", "hospitals_in_deficit"]
    # named as they are (issue 14): the table's fund_balance is the year's surplus (revenue −
    # spending), accumulated_balance the fund's balance
    shown = {"fund_balance": "surplus_of_year", "accumulated_balance": "fund_balance"}
    import pandas as pd

    with pd.option_context("display.width", 220, "display.max_columns", 20,
                           "display.float_format", "{:,.3f}".format):
        print(yearly[columns].rename(columns=shown).to_string(index=False))
    for name in ("report.zh.html", "report.en.html", "report.zh.pdf", "report.en.pdf"):
        if (folder / name).is_file():
            print(f"  report: {folder / name}")
    return 0


def command_compare(args: argparse.Namespace) -> int:
    from sim.commands.compare import compare_to_folder

    folder, meta = compare_to_folder(
        args.scenario, args.baseline, [Path(r) for r in args.reform], args.replications,
        args.seed, args.years, args.start_year, args.scale, lang=args.lang,
        catalogue=args.catalogue, parameter_draws=args.parameter_draws,
        ensemble=args.ensemble, **_out(args))
    _warn(meta["warnings"])
    draws = meta["parameter_draws"]
    if not draws:
        runs = (f"{args.replications} replications (behaviour at the region's central values: "
                "no parameter uncertainty)")
    elif draws["design"] == "each":
        runs = f"{args.replications} replications, each with its own behavioural parameter set"
    else:
        runs = f"{draws['draws']} parameter draws x {args.replications} replications"
    print(f"Compared {len(meta['scenarios']) - 1} reform(s) with {meta['baseline']} over "
          f"{args.years} years, {runs} -> {folder} ({meta['seconds']:.1f} s)")
    for label, numbers in meta["headline"].items():
        year = numbers["year"]
        print(f"  {label} ({year}, difference, 5th-95th percentile):")
        for key, name in (("fund_balance", "surplus of the year, yuan"),
                          ("annual_point_value", "point value, yuan"),
                          ("upcoding_gap", "upcoding gap (coded - true CMI)"),
                          ("basic_share_lower_levels", "basic cases at lower levels, share"),
                          ("reserve_months_employee", "employee fund, months of reserve"),
                          ("reserve_months_resident", "resident fund, months of reserve")):
            value = numbers[key]
            share = numbers["parameter_share"].get(key)
            source = ("" if share is None or share != share else
                      f" ({share:.0%} of the variance from behavioural parameters)")
            print(f"    {name}: {value['mean']:+,.4g} [{value['p5']:+,.4g}, "
                  f"{value['p95']:+,.4g}]{source}")
    _print_reports(meta["briefing"])
    return 0


def _print_reports(written: dict) -> None:
    """The reports written, and one line for each PDF that could not be printed."""
    _warn(written["notes"])
    for path in written["reports"]:
        print(f"  report: {path}")


def command_sweep(args: argparse.Namespace) -> int:
    from sim.experiments.sweep import WorkersLost, load_sweep, status, sweep

    if args.status is not None:
        if args.spec is not None:
            raise InputError("--status", None, "given with a SPEC",
                             "either SPEC (run or resume) or --status DIR (summarise)")
        summary = status(args.status)
        print(f"{summary['title']}: {summary['jobs']:,} jobs: {summary['done']:,} done, "
              f"{summary['failed']:,} failed, {summary['remaining']:,} remaining; "
              f"{summary['seconds']:,.0f} s of runs"
              + ("; results.parquet is up to date" if summary["results"] else
                 "; results.parquet not yet combined (run the sweep again to finish)"))
        for failure in summary["errors"][:5]:
            print(f"  {failure['job']}: {failure['error']}")
        if len(summary["errors"]) > 5:
            print(f"  ... {len(summary['errors']) - 5} more in {args.status}/manifest.jsonl")
        return 0
    if args.spec is None:
        raise InputError("SPEC", None, "missing", "a sweep file (or --status DIR)")
    if args.scheduler is not None and args.executor != "dask":
        raise InputError("--scheduler", None, f"given with --executor {args.executor}",
                         "--executor dask")
    if args.scheduler is not None and args.workers is not None:
        raise InputError("--workers", None, "given with --scheduler", "one of them (a "
                         "scheduler's workers are started with dask worker --nworkers N)")
    spec = load_sweep(args.spec)
    default = f"outputs/sweeps/{Path(spec.file).stem}"
    out = args.out if args.out is not None else default
    if not out.strip():
        raise InputError("--out", None, "is empty", "a folder path")
    started = time.perf_counter()
    try:
        results = sweep(spec, executor=args.executor, workers=args.workers, out=out,
                        scheduler=args.scheduler, create_parent=out == default,
                        on_warning=lambda line: _warn([line]))
    except KeyboardInterrupt:
        print(f"drgsim: interrupted; the finished jobs are kept in {out}: run the same command "
              "again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except WorkersLost as error:
        print(f"drgsim: error: {error}; the finished jobs are kept in {out}: run the same "
              "command again to resume", file=sys.stderr)
        return EXIT_FAILURE
    summary = status(out)
    print(f"{spec.title}: {summary['done']:,} of {summary['jobs']:,} jobs done, "
          f"{summary['failed']:,} failed -> {out}/results.parquet ({len(results):,} rows, "
          f"{time.perf_counter() - started:.1f} s)")
    if summary["failed"]:
        _warn([f"{summary['failed']} jobs failed (first: {summary['errors'][0]['job']}: "
               f"{summary['errors'][0]['error']}); see drgsim sweep --status {out}; running "
               "the command again retries them"])
    return 0


def command_sensitivity(args: argparse.Namespace) -> int:
    from sim.experiments.sensitivity import analyse, write_analysis

    out = args.out if args.out is not None else str(Path(args.folder) / "sensitivity")
    if not out.strip():
        raise InputError("--out", None, "is empty", "a folder path")
    if args.density_min is not None and args.condition is None:
        raise InputError("--density-min", None, "given without --condition",
                         "--condition \"OUTCOME OP NUMBER\" (PRIM needs a condition)")
    started = time.perf_counter()
    analysis = analyse(args.folder, args.outcome, args.year, args.scenario, args.groups,
                       args.condition, args.density_min)
    folder = write_analysis(analysis, out)
    summary = analysis.summary
    print(f"{summary['title']}: {summary['design']} design, {summary['points']:,} points x "
          f"{summary['replications']} replications (averaged per point), {summary['year']}")
    print(f"  {summary['indices']}")
    for key, factors in summary["top"].items():
        shown = ", ".join(f"{f['factor']} {f['value']:+.2f}" + (
            f" ±{f['conf']:.2f}" if f["conf"] is not None else "") for f in factors[:3]
            if f["value"] is not None)
        noise = summary["replication_noise"].get(key, 0.0)
        sets = summary.get("replication_parameter_share", {}).get(key)
        spread = (f"noise between replications {noise:.0%}" if sets is None or sets != sets
                  else f"spread between replications {noise:.0%}, {sets:.0%} of it from the "
                       "behavioural parameter sets")
        print(f"  {key}: {shown or 'does not vary'}" + (f" ({spread})" if noise else ""))
    if analysis.prim:
        prim = analysis.prim
        print(f"  PRIM {prim['condition']} ({prim['scenario']}): {prim['points_meeting']} of "
              f"{prim['points']} points; box coverage {prim['coverage']:.0%}, density "
              f"{prim['density']:.0%}, mass {prim['mass']:.0%} ({prim['why']})")
        for limit in prim["box"]:
            where = (f"[{limit['low']:,.4g}, {limit['high']:,.4g}]" if "low" in limit
                     else limit.get("levels", ""))
            print(f"    {limit['parameter']} in {where}")
    print(f"  -> {folder} ({time.perf_counter() - started:.1f} s)")
    return 0


def command_report(args: argparse.Namespace) -> int:
    from sim.errors import read_json
    from sim.report.briefing import PDF, REPORT, build_briefing, languages
    from sim.store import earlier_output

    folder = Path(args.folder)
    if not folder.is_dir():
        problem = "does not exist" if not folder.exists() else "is not a folder"
        raise InputError(str(folder), None, problem, "a folder written by drgsim compare")
    meta_path = folder / "comparison.json"
    record = earlier_output(folder)
    one_run = record is not None and record.get("kind") == "run"
    if (not meta_path.is_file() and not one_run) or record is None:
        raise InputError(str(folder), None, "no comparison.json and drgsim run record here",
                         "a folder written by drgsim compare or drgsim run")
    if not one_run:
        read_json(meta_path, "the comparison.json that drgsim compare wrote (run drgsim "
                             "compare again to rebuild it)")
    langs = languages(args.lang)
    names = [("charts", True), *((name.format(lang=lang), False) for lang in langs
                                 for name in (REPORT, PDF))]
    for name, folder_expected in names:
        place = folder / name
        if place.exists() and place.is_dir() != folder_expected:
            raise InputError(str(place), None, "is a folder" if place.is_dir() else "is a file",
                             f"{'a folder of charts' if folder_expected else 'a report file'} "
                             "written by drgsim (move it out of the way)")
    expected = "a folder written by drgsim compare (run drgsim compare again to rebuild it)"
    try:
        if one_run:
            from sim.report.run_report import build_run_report

            written = build_run_report(folder, langs)
        else:
            written = build_briefing(folder, langs)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        text = " ".join(str(error).split())[:120]
        raise InputError(str(folder), None, "the stored results do not fit together "
                         f"({type(error).__name__}: {text})", expected) from None
    _warn(written.notes)
    for path in written.pages + written.pdfs:
        print(f"Rebuilt {path}")
    return 0


def command_example(args: argparse.Namespace) -> int:
    from sim.commands.settle import settle_to_folder
    from sim.resources import resolve, shipped

    started = time.perf_counter()
    result, folder = settle_to_folder(
        cases_path=shipped("examples", "cases_2023", ".csv"),
        catalogue_path=shipped("catalogues", "guangxi_2022", ".csv"),
        policy_path=resolve(args.policy, "policies", ".yaml"),
        reforms=[], budget=None, year=None, parquet=True, **_out(args))
    _warn(result.warnings)
    _print_settlement(result, folder, time.perf_counter() - started)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Charts of a comparison folder (``drgsim compare``), in the house style of single-run charts,
each saved as a PNG with a CSV twin: fund balance and months of reserve, point value, coded vs.
true CMI, upcoding pressure by level × MDC, admissions and basic-group cases by level, hospital
winners and losers, readmissions and length of stay. Lines are scenario means with a band from
the 5th to the 95th percentile across replications; differences (reform − baseline) are paired
by replication, as the comparison is (common random numbers). Reads stored tables only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sim.errors import InputError, read_json, show
from sim.experiments.compare import HIGH, LOW
from sim.report.charts import (
    LEVEL_COLOURS,
    STYLE,
    axis_title,
    chart_style,
    figure_title,
    legend_below,
    panel_grid,
    wrapped,
)
from sim.report.labels import LEVELS, level_name, money_unit, number, text

CHARTS = ("fund_balance", "point_value", "cmi", "upcoding_pressure", "admissions_by_level",
          "hospital_margins", "readmissions_los")
BASELINE_COLOUR = "#555555"
REFORM_COLOURS = (LEVEL_COLOURS["secondary"], LEVEL_COLOURS["tertiary"], LEVEL_COLOURS["primary"],
                  "#edae49", "#8e6c8a", "#00798c", "#d17a22", "#6b4226")
WINNER, LOSER, NOISE = LEVEL_COLOURS["primary"], LEVEL_COLOURS["tertiary"], "#b0b0b0"
SUMMARIES = ("comparison_yearly", "comparison_by_level", "comparison_by_hospital",
             "comparison_pressure")
RAW = ("yearly", "yearly_by_level")
# per-hospital columns the findings read (sim.report.findings), where the folder has them
HOSPITAL_FINDINGS = ("private", "fund_payable", "ffs_fund_paid", "fund_payable_before_caps",
                     "deducted_points_value", "caps_deduction")
WIDE = (9.0, 4.0)
# many reforms: small multiples at most MAX_COLUMNS a row, and at most MAX_PANELS (or MAX_BARS
# reforms side by side) — those with the largest effect, with a note; the CSV keeps every reform
MAX_COLUMNS, MAX_PANELS, MAX_BARS = 4, 12, 6
RANK_WIDTH = 0.4  # a level's hospitals spread over ±this around its place on the axis


def ranked(reforms: list[str], effect: pd.Series, limit: int) -> list[str]:
    """The reforms to draw: all when they fit, else the ``limit`` with the largest ``effect``
    (a Series by reform), in their order of the comparison."""
    if len(reforms) <= limit:
        return list(reforms)
    sizes = effect.reindex(reforms).fillna(-np.inf)
    keep = set(sizes.sort_values(ascending=False, kind="stable").index[:limit])
    return [reform for reform in reforms if reform in keep]


def top_title(lang: str, title: str, shown: list[str], reforms: list[str]) -> str:
    if len(shown) == len(reforms):
        return title
    return f"{title}\n{text(lang, 'top_note', shown=len(shown), total=len(reforms))}"


@dataclass
class Comparison:
    """The stored results of one comparison folder."""

    folder: Path
    meta: dict
    record: dict
    summaries: dict[str, pd.DataFrame]
    raw: dict[str, pd.DataFrame]

    @property
    def labels(self) -> list[str]:
        return [s["label"] for s in self.meta["scenarios"]]

    @property
    def baseline(self) -> str:
        return self.meta["baseline"]

    @property
    def reforms(self) -> list[str]:
        return [label for label in self.labels if label != self.baseline]

    def name(self, label: str, lang: str) -> str:
        """How a scenario is shown: its Chinese title in Chinese where it has one."""
        if lang == "zh":
            for scenario in self.meta["scenarios"]:
                if scenario["label"] == label and scenario.get("title_zh"):
                    return scenario["title_zh"]
        return label

    @property
    def last_year(self) -> int:
        return int(self.meta["start_year"]) + int(self.meta["years"]) - 1

    @cached_property
    def findings(self):
        """The findings of :mod:`sim.report.findings` (computed once per loaded folder)."""
        from sim.report.findings_page import compute_findings

        return compute_findings(self)


@dataclass
class Chart:
    name: str
    title: str
    png: Path
    csv: Path


def load_comparison(folder: Path) -> Comparison:
    """Read comparison.json, the run record, the summaries and the raw replication tables."""
    folder = Path(folder)

    def need(relative: str) -> Path:
        path = folder / relative
        if not path.is_file():
            raise InputError(str(path), None, "missing", "a folder written by drgsim compare")
        return path

    expected = "a folder written by drgsim compare (run it again to rebuild)"
    meta = read_json(need("comparison.json"), expected)
    shapes = {"baseline": str, "scenarios": list, "years": int, "start_year": int,
              "replications": int, "seed": int, "region_title_zh": (str, type(None))}
    for key, kind in shapes.items():
        if not isinstance(meta.get(key), kind) or (kind is list and not meta[key]):
            raise InputError(str(folder / "comparison.json"), f"key {key}",
                             f"value {show(meta.get(key))}", expected)
    for index, scenario in enumerate(meta["scenarios"]):
        if not isinstance(scenario, dict) or not isinstance(scenario.get("label"), str):
            raise InputError(str(folder / "comparison.json"), f"scenarios[{index}]",
                             f"value {show(scenario)}", expected)
    record_path = folder / "run_record.json"
    record = read_json(record_path, expected) if record_path.is_file() else {}

    def table(relative: str, columns: list[str] | None = None) -> pd.DataFrame:
        try:
            return pd.read_parquet(need(relative), columns=columns)
        except InputError:
            raise
        except Exception as error:  # noqa: BLE001 - any reader failure is a damaged file
            raise InputError(str(folder / relative), None, "not a readable Parquet table "
                             f"({' '.join(str(error).split())[:120]})", expected) from None

    summaries = {name: table(f"{name}.parquet") for name in SUMMARIES}
    raw = {name: table(f"replications/{name}.parquet") for name in RAW}
    stored = hospital_columns(need("replications/hospital_yearly.parquet"))
    raw["hospital_yearly"] = table(
        "replications/hospital_yearly.parquet",
        ["scenario", "replication", "year", "hospital_id", "level", "margin",
         *(c for c in HOSPITAL_FINDINGS if c in stored)])
    yearly = raw["yearly"]
    file = str(folder / "comparison.json")
    missing = [c for c in ("scenario", "replication", "year", "coded_cmi", "true_cmi")
               if c not in yearly]
    if missing:
        raise InputError(str(folder / "replications" / "yearly.parquet"), "columns",
                         f"missing {missing[0]!r}", expected)
    labels = [scenario["label"] for scenario in meta["scenarios"]]
    if meta["baseline"] not in labels or len(labels) < 2:
        raise InputError(file, "baseline", f"{meta['baseline']!r} with scenarios {labels}",
                         "the baseline and at least one reform, as drgsim compare wrote them")
    stored = sorted(set(yearly["scenario"]))
    if stored != sorted(labels):
        raise InputError(file, "scenarios", f"{labels} but the tables hold {stored}", expected)
    years = sorted(set(yearly["year"]))
    wanted = list(range(meta["start_year"], meta["start_year"] + meta["years"]))
    if years != wanted:
        raise InputError(file, "start_year, years", f"{meta['start_year']}, {meta['years']} but "
                         f"the tables hold {years[:3]}…", expected)
    for name, summary in summaries.items():
        if "scenario" not in summary:
            raise InputError(str(folder / f"{name}.parquet"), "columns", "missing 'scenario'",
                             expected)
    if "upcoding_gap" not in yearly:
        yearly["upcoding_gap"] = yearly["coded_cmi"] - yearly["true_cmi"]
    return Comparison(folder, meta, record, summaries, raw)


def hospital_columns(path: Path) -> list[str]:
    """The columns of a stored table (none when it cannot be read: reading it says why)."""
    try:
        return pq.read_schema(path).names
    except Exception:  # noqa: BLE001 - a damaged file is reported when the table is read
        return []


def scenario_colours(comparison: Comparison) -> dict[str, str]:
    colours = {comparison.baseline: BASELINE_COLOUR}
    for index, label in enumerate(comparison.reforms):
        colours[label] = REFORM_COLOURS[index % len(REFORM_COLOURS)]
    return colours


def legend_label(comparison: Comparison, lang: str, label: str) -> str:
    shown = comparison.name(label, lang)
    return text(lang, "baseline_legend", label=shown) if label == comparison.baseline else shown


def band(table: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """Mean and 5th–95th percentile of ``column`` across replications, per scenario × keys."""
    grouped = table.groupby(["scenario", *keys], sort=True)[column]
    return pd.DataFrame({"mean": grouped.mean(), "p5": grouped.quantile(LOW),
                         "p95": grouped.quantile(HIGH)}).reset_index()


def paired_band(comparison: Comparison, table: pd.DataFrame, keys: list[str],
                column: str) -> pd.DataFrame:
    """Reform − baseline of ``column`` per replication, then mean and percentiles per reform."""
    base = table[table["scenario"] == comparison.baseline][["replication", *keys, column]]
    pieces = []
    for label in comparison.reforms:
        reform = table[table["scenario"] == label][["replication", *keys, column]]
        both = base.merge(reform, on=["replication", *keys], suffixes=("_baseline", ""))
        pieces.append(pd.DataFrame({"scenario": label, **{k: both[k] for k in keys},
                                    "replication": both["replication"],
                                    "difference": both[column] - both[f"{column}_baseline"]}))
    if not pieces:
        return pd.DataFrame(columns=["scenario", *keys, "mean", "p5", "p95"])
    return band(pd.concat(pieces, ignore_index=True), keys, "difference")


def draw_bands(axis, comparison: Comparison, lang: str, table: pd.DataFrame, scale: float = 1.0,
               linestyle: str = "-", shade: bool = True, label: bool = True) -> None:
    """One line per scenario (mean over years) with its band; the baseline is drawn thinner and
    on top, so that a reform that hardly differs from it does not hide it."""
    colours = scenario_colours(comparison)
    for scenario in comparison.labels:
        rows = table[table["scenario"] == scenario].sort_values("year")
        if rows.empty or rows["mean"].isna().all():
            continue
        baseline = scenario == comparison.baseline
        axis.plot(rows["year"], rows["mean"] * scale, color=colours[scenario], marker="o",
                  markersize=3 if baseline else 4.5, linestyle=linestyle,
                  linewidth=1.2 if baseline else 2.2, zorder=3 if baseline else 2,
                  label=legend_label(comparison, lang, scenario) if label else None)
        if shade:
            axis.fill_between(rows["year"], rows["p5"] * scale, rows["p95"] * scale,
                              color=colours[scenario], alpha=0.15, linewidth=0)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel(text(lang, "year_axis"))


def finish(figure, axes, lang: str, title: str, handles=None, labels=None,
           note: bool | str = True) -> None:
    """Title on top, one legend below all panels (scenario names, in as many columns as fit),
    the band note (or the ``note`` given) as its title; y labels wrapped to their panel's
    height."""
    figure_title(figure, title)
    for axis in axes:
        label = axis.get_ylabel()
        if label:
            height = axis.get_position().height * figure.bbox.height
            axis.set_ylabel(wrapped(label, figure, STYLE["font.size"], share=0.8,
                                    width=height))
    if handles is None:
        handles, labels = axes[0].get_legend_handles_labels()
    note = text(lang, "band_note") if note is True else note or None
    legend_below(figure, handles, labels, title=note, title_fontsize=STYLE["font.size"] - 1)


def save(figure, data: pd.DataFrame, folder: Path, name: str, title: str) -> Chart:
    """PNG (no software stamp, so the same inputs give the same bytes) and its CSV twin."""
    folder.mkdir(parents=True, exist_ok=True)
    png, csv = folder / f"{name}.png", folder / f"{name}.csv"
    figure.savefig(png, metadata={"Software": None})
    plt.close(figure)
    data.to_csv(csv, index=False, lineterminator="\n")
    return Chart(name, title, png, csv)


def yearly_bands(comparison: Comparison, columns: list[str]) -> pd.DataFrame:
    """Long table (scenario, year, variable, mean, p5, p95) of yearly columns."""
    yearly = comparison.raw["yearly"]
    pieces = [band(yearly, ["year"], column).assign(variable=column) for column in columns
              if column in yearly]
    table = pd.concat(pieces, ignore_index=True)
    return table[["scenario", "year", "variable", "mean", "p5", "p95"]]


def fund_balance(comparison: Comparison, lang: str, folder: Path) -> Chart:
    """The pooled balance of the year, and each scheme's months of reserve (§2.1; issue 10)
    against the threshold bureaus watch (``reserve_warning_months``, 6)."""
    schemes = [f"reserve_months_{scheme}" for scheme in ("employee", "resident")]
    data = yearly_bands(comparison, ["fund_balance", "reserve_months", *schemes])
    balance = data[data["variable"] == "fund_balance"]
    divisor, _, _, unit = money_unit(lang, *balance[["mean", "p5", "p95"]].abs().max())
    title = text(lang, "fund_balance.title")
    shown = [column for column in schemes if (data["variable"] == column).any()]
    figure, axes = plt.subplots(1, 1 + max(len(shown), 1), figsize=WIDE, layout="constrained")
    draw_bands(axes[0], comparison, lang, balance, scale=1 / divisor)
    if balance["p5"].min() < 0 < balance["p95"].max():
        axes[0].axhline(0, color="#333333", linewidth=0.6)
    axes[0].set_ylabel(text(lang, "fund_balance.balance", unit=unit))
    threshold = comparison.meta.get("reserve_warning_months", 6)
    for axis, column in zip(axes[1:], shown or ["reserve_months"], strict=False):
        draw_bands(axis, comparison, lang, data[data["variable"] == column], label=False)
        axis.axhline(threshold, color="#a4161a", linewidth=0.8, linestyle=":")
        axis.set_ylabel(text(lang, "fund_balance.reserve"))
        axis.set_title(text(lang, column) if shown else "", fontsize=9)
    finish(figure, axes, lang, title)
    return save(figure, data, folder, "fund_balance", title)


def point_value(comparison: Comparison, lang: str, folder: Path) -> Chart:
    data = yearly_bands(comparison, ["annual_point_value"])
    title = text(lang, "point_value.title")
    figure, axis = plt.subplots(figsize=STYLE["figure.figsize"], layout="constrained")
    if data["mean"].notna().any():
        draw_bands(axis, comparison, lang, data)
        axis.set_ylabel(text(lang, "point_value.axis"))
        finish(figure, [axis], lang, title)
    else:
        axis.text(0.5, 0.5, text(lang, "point_value.none"), ha="center", va="center",
                  transform=axis.transAxes, color="#555555")
        axis.set_axis_off()
        finish(figure, [axis], lang, title, handles=[], labels=[])
    return save(figure, data, folder, "point_value", title)


def cmi(comparison: Comparison, lang: str, folder: Path) -> Chart:
    data = yearly_bands(comparison, ["coded_cmi", "true_cmi", "upcoding_gap"])
    title = text(lang, "cmi.title")
    figure, axes = plt.subplots(1, 2, figsize=WIDE, layout="constrained")
    draw_bands(axes[0], comparison, lang, data[data["variable"] == "coded_cmi"])
    draw_bands(axes[0], comparison, lang, data[data["variable"] == "true_cmi"], linestyle="--",
               shade=False, label=False)
    axes[0].set_ylabel(text(lang, "cmi.levels"))
    draw_bands(axes[1], comparison, lang, data[data["variable"] == "upcoding_gap"], label=False)
    axes[1].set_ylabel(text(lang, "cmi.gap"))
    finish(figure, axes, lang, title)
    return save(figure, data, folder, "cmi", title)


def upcoding_pressure(comparison: Comparison, lang: str, folder: Path) -> Chart:
    """Heatmap of the reform − baseline difference in the last year, one panel per reform."""
    year = comparison.last_year
    table = comparison.summaries["comparison_pressure"]
    rows = table[(table["variable"] == "upcoding_pressure") & (table["year"] == year)]
    data = rows[["scenario", "year", "level", "mdc", "baseline_mean", "reform_mean",
                 "difference_mean", "difference_p5", "difference_p95"]].sort_values(
        ["scenario", "level", "mdc"]).reset_index(drop=True)
    reforms = comparison.reforms or [""]
    effect = data.groupby("scenario")["difference_mean"].apply(lambda d: d.abs().max())
    shown = ranked(reforms, effect, MAX_PANELS // 2 * 2 if len(reforms) > 4 else 4)
    title = top_title(lang, text(lang, "upcoding_pressure.title", year=year), shown, reforms)
    reforms = shown
    columns = 1 if len(reforms) <= 4 else 2  # a grid, never a tower of heatmaps
    figure, axes = panel_grid(len(reforms), columns, (8.0 if columns == 1 else 5.6, 1.45),
                              layout="constrained")
    order = [level for level in reversed(LEVELS)]
    mdcs = sorted(data["mdc"].astype(str).unique())
    limit = float(np.nanmax(np.abs(data["difference_mean"]))) if len(data) else 0.0
    limit = limit if limit > 0 else 1.0
    colour_map = plt.get_cmap("RdBu_r").with_extremes(bad="#eeeeee")
    image = None
    for axis, reform in zip(axes, reforms, strict=True):
        mine = data[data["scenario"] == reform].assign(mdc=lambda d: d["mdc"].astype(str))
        grid = mine.pivot(index="level", columns="mdc", values="difference_mean").reindex(
            index=order, columns=mdcs)
        image = axis.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap=colour_map,
                            vmin=-limit, vmax=limit, interpolation="nearest")
        noise = mine[(mine["difference_p5"] <= 0) & (mine["difference_p95"] >= 0)]
        axis.plot([mdcs.index(m) for m in noise["mdc"]],
                  [order.index(level) for level in noise["level"]], linestyle="",
                  marker="o", markersize=2, color="#333333")
        axis.set_yticks(range(len(order)), [level_name(lang, level) for level in order])
        axis.set_xticks(range(len(mdcs)), mdcs)
        axis.grid(False)
        for side in axis.spines.values():
            side.set_visible(False)
        axis_title(axis, comparison.name(reform, lang), loc="left", weight="bold")
        if not len(mine):
            axis.text(0.5, 0.5, text(lang, "upcoding_pressure.none"), ha="center",
                      va="center", transform=axis.transAxes, color="#555555")
    for axis in axes[-columns:]:
        axis.set_xlabel(text(lang, "upcoding_pressure.axis"))
    if image is not None:  # under the panels: its label is as long as the figure is wide
        figure.colorbar(image, ax=list(axes), label=text(lang, "upcoding_pressure.colour"),
                        location="bottom", shrink=0.6, aspect=40, pad=0.02)
    dot = Line2D([], [], linestyle="", marker="o", markersize=3, color="#333333")
    finish(figure, list(axes), lang, title, handles=[dot],
           labels=[text(lang, "upcoding_pressure.dot")], note=False)
    return save(figure, data, folder, "upcoding_pressure", title)


def level_tables(comparison: Comparison) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw admissions and basic-case shares by level (per replication), and their bands."""
    by_level = comparison.raw["yearly_by_level"].copy()
    total = by_level.groupby(["scenario", "replication", "year"])["basic_cases"].transform("sum")
    by_level["basic_case_share"] = np.where(total > 0, by_level["basic_cases"] / total, np.nan)
    return by_level, by_level[by_level["year"] == comparison.last_year]


def admissions_by_level(comparison: Comparison, lang: str, folder: Path) -> Chart:
    """The referral effect: reform − baseline admissions and basic-case shares by level."""
    year = comparison.last_year
    _, last = level_tables(comparison)
    colours = scenario_colours(comparison)
    panels = [("admissions", 1.0, "admissions_by_level.admissions"),
              ("basic_case_share", 100.0, "admissions_by_level.basic")]
    pieces = []
    differences = {column: paired_band(comparison, last, ["level"], column)
                   for column, _, _ in panels}
    effect = differences["admissions"].groupby("scenario")["mean"].apply(
        lambda d: d.abs().sum())
    drawn = ranked(comparison.reforms, effect, MAX_BARS)
    title = top_title(lang, text(lang, "admissions_by_level.title", year=year), drawn,
                      comparison.reforms)
    figure, axes = plt.subplots(1, 2, figsize=WIDE, layout="constrained")
    for axis, (column, scale, label) in zip(axes, panels, strict=True):
        difference = differences[column]
        base = band(last[last["scenario"] == comparison.baseline], ["level"], column)
        base_mean = base.set_index("level")["mean"]
        pieces.append(difference.assign(variable=column, year=year,
                                        baseline_mean=difference["level"].map(base_mean)))
        width = 0.8 / max(len(drawn), 1)
        for index, reform in enumerate(drawn):
            rows = difference[difference["scenario"] == reform].set_index("level").reindex(
                LEVELS)
            x = np.arange(len(LEVELS)) + (index - (len(drawn) - 1) / 2) * width
            mean = rows["mean"].to_numpy() * scale
            error = np.vstack([mean - rows["p5"].to_numpy() * scale,
                               rows["p95"].to_numpy() * scale - mean])
            axis.bar(x, mean, width=width * 0.9, color=colours[reform],
                     label=comparison.name(reform, lang),
                     yerr=np.clip(error, 0, None), ecolor="#333333", capsize=3)
        shown = [number(base_mean.get(level, np.nan) * scale, 0 if scale == 1 else 1)
                 + ("%" if scale != 1 else "") for level in LEVELS]
        axis.set_xticks(range(len(LEVELS)), [
            text(lang, "admissions_by_level.tick", level=level_name(lang, level, short=True),
                 value=value)
            for level, value in zip(LEVELS, shown, strict=True)])
        axis.axhline(0, color="#333333", linewidth=0.6)
        axis.grid(axis="x", visible=False)
        axis.set_ylabel(text(lang, label))
    finish(figure, axes, lang, title)
    data = pd.concat(pieces, ignore_index=True)[["scenario", "year", "level", "variable",
                                                 "baseline_mean", "mean", "p5", "p95"]]
    return save(figure, data.rename(columns={"mean": "difference_mean", "p5": "difference_p5",
                                             "p95": "difference_p95"}),
                folder, "admissions_by_level", title)


def hospital_margins(comparison: Comparison, lang: str, folder: Path) -> Chart:
    """Per-hospital difference in margin (receipts − cost) in the last year, by level: a ranked
    dot plot per level (one dot per hospital, smallest change to largest), so that no hospital
    hides behind another, for 80 hospitals as for 1,000; the line is the level's mean."""
    year = comparison.last_year
    table = comparison.summaries["comparison_by_hospital"]
    rows = table[(table["variable"] == "margin") & (table["year"] == year)]
    data = rows[["scenario", "year", "hospital_id", "level", "baseline_mean", "difference_mean",
                 "difference_p5", "difference_p95"]].copy()
    data["verdict"] = np.select([data["difference_p5"] > 0, data["difference_p95"] < 0],
                                ["winner", "loser"], "noise")
    data = data.sort_values(["scenario", "level", "hospital_id"]).reset_index(drop=True)
    divisor, _, _, unit = money_unit(lang, *data["difference_mean"].abs().tolist())
    reforms = comparison.reforms or [""]
    effect = data.groupby("scenario")["difference_mean"].apply(lambda d: d.abs().mean())
    shown = ranked(reforms, effect, MAX_PANELS)
    title = top_title(lang, text(lang, "hospital_margins.title", year=year), shown, reforms)
    reforms = shown
    # small multiples: one panel per reform, at most MAX_COLUMNS a row, on one shared scale
    figure, axes = panel_grid(len(reforms), MAX_COLUMNS if len(reforms) > 2 else 2,
                              (3.0 if len(reforms) > 1 else 7.6, 3.3), layout="constrained",
                              sharey=True)
    colours = {"winner": WINNER, "loser": LOSER, "noise": NOISE}
    for axis, reform in zip(axes, reforms, strict=True):
        mine = data[data["scenario"] == reform]
        for position, level in enumerate(LEVELS):
            here = mine[mine["level"] == level].sort_values("difference_mean")
            if here.empty:
                continue
            # a ranked dot plot: hospitals side by side from the largest loss to the largest
            # gain, so that equal values (sixty hospitals at zero) stay sixty dots
            spread = (np.linspace(-RANK_WIDTH, RANK_WIDTH, len(here)) if len(here) > 1
                      else np.zeros(1))
            axis.scatter(position + spread, here["difference_mean"] / divisor,
                         s=min(14.0, 1400.0 / len(here)),
                         c=[colours[v] for v in here["verdict"]], linewidths=0, zorder=3)
            mean = here["difference_mean"].mean() / divisor
            axis.plot([position - RANK_WIDTH, position + RANK_WIDTH], [mean, mean],
                      color="#222222",
                      linewidth=1.2, zorder=4)
            counts = here["verdict"].value_counts()
            for verdict, mark, shift in (("winner", "▲", -11), ("loser", "▼", 11)):
                axis.annotate(f"{mark}{counts.get(verdict, 0)}", (position, 1.0),
                              xycoords=("data", "axes fraction"), xytext=(shift, 2),
                              textcoords="offset points", ha="center", va="bottom",
                              fontsize=STYLE["font.size"] - 1, color=colours[verdict])
        axis.axhline(0, color="#333333", linewidth=0.6)
        axis.set_xticks(range(len(LEVELS)), [level_name(lang, lv, short=True) for lv in LEVELS])
        axis.set_xlim(-0.5, len(LEVELS) - 0.5)
        axis.grid(axis="x", visible=False)
        axis_title(axis, comparison.name(reform, lang), pad=14)
    columns = MAX_COLUMNS if len(reforms) > 2 else 2
    for index, axis in enumerate(axes):
        if index % columns == 0:
            axis.set_ylabel(text(lang, "hospital_margins.axis", unit=unit))
    handles = [Line2D([], [], linestyle="", marker="o", markersize=5, color=colours[v])
               for v in ("winner", "loser", "noise")]
    finish(figure, list(axes), lang, title, handles=handles,
           labels=[text(lang, f"hospital_margins.{v}") for v in ("winner", "loser", "noise")],
           note=text(lang, "hospital_margins.ranked"))
    return save(figure, data, folder, "hospital_margins", title)


def readmissions_los(comparison: Comparison, lang: str, folder: Path) -> Chart:
    data = yearly_bands(comparison, ["readmission_15d_rate", "mean_los"])
    title = text(lang, "readmissions_los.title")
    figure, axes = plt.subplots(1, 2, figsize=WIDE, layout="constrained")
    draw_bands(axes[0], comparison, lang, data[data["variable"] == "readmission_15d_rate"],
               scale=100.0)
    axes[0].set_ylabel(text(lang, "readmissions_los.readmission"))
    draw_bands(axes[1], comparison, lang, data[data["variable"] == "mean_los"], label=False)
    axes[1].set_ylabel(text(lang, "readmissions_los.los"))
    finish(figure, axes, lang, title)
    return save(figure, data, folder, "readmissions_los", title)


DRAWERS = {"fund_balance": fund_balance, "point_value": point_value, "cmi": cmi,
           "upcoding_pressure": upcoding_pressure, "admissions_by_level": admissions_by_level,
           "hospital_margins": hospital_margins, "readmissions_los": readmissions_los}


def draw_charts(comparison: Comparison, lang: str, folder: Path) -> list[Chart]:
    """Every chart of a comparison in one language, into ``folder``."""
    with chart_style(lang):
        return [DRAWERS[name](comparison, lang, folder) for name in CHARTS]

"""Charts of the findings (issue 14), in the house style, each a PNG with its CSV twin:

- ``fund_waterfall``: the fund's balance over the whole period from the baseline's to the
  reform's, part by part (:func:`sim.report.findings.fund_waterfall`): horizontal bars of each
  part's change, starting where the one before ended, with their 5th–95th percentile, grey where
  the interval includes zero; the last bar is the total, the sum of the parts.
- ``hospital_ranking``: hospitals ranked by their change in margin against the baseline (whole
  period) with the interval, coloured by level, hollow for private hospitals; with more than
  ``SHOW_ALL`` hospitals the ``EACH_END`` largest gains and losses are drawn and the rest is
  summarised in one line (their number and range), so 80 or 1,000 hospitals read the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

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
from sim.report.compare_charts import (
    LOSER,
    MAX_PANELS,
    NOISE,
    WINNER,
    Chart,
    Comparison,
    ranked,
    save,
    top_title,
)
from sim.report.labels import LEVELS, level_name, money_unit, quantities, text

SHOW_ALL, EACH_END = 40, 15
MAX_RANKINGS = 4
FILL = {"public": "full", "private": "none", "mixed": "left"}  # marker by ownership
FINDINGS_CHARTS = ("fund_waterfall", "hospital_ranking")


def years(comparison: Comparison) -> dict:
    return {"first": int(comparison.meta["start_year"]), "last": comparison.last_year}


def fund_waterfall(comparison: Comparison, lang: str, folder: Path) -> Chart:
    table = comparison.findings.waterfall
    title = text(lang, "fund_waterfall.title", **years(comparison))
    if table is None:  # a folder written before the parts were recorded
        table = pd.DataFrame(columns=["scenario", "period", "order", "part", "kind", "mean",
                                      "p5", "p95", "noise", "before", "after"])
    data = table.reset_index(drop=True)
    whole = data[data["period"] == "cumulative"]
    reforms = comparison.reforms
    effect = whole[whole["kind"] == "part"].groupby("scenario")["mean"].apply(
        lambda m: m.abs().sum())
    shown = ranked(reforms, effect, MAX_PANELS)
    title = top_title(lang, title, shown, reforms)
    columns = 1 if len(shown) == 1 else 2
    figure, axes = panel_grid(len(shown), columns, (7.6 if columns == 1 else 5.6, 3.4),
                              layout="constrained")
    changes = whole[whole["kind"] == "part"]
    divisor, _, _, unit = money_unit(lang, *changes["mean"].abs().tolist(), 0.0)
    for axis, reform in zip(axes, shown, strict=True):
        mine = whole[whole["scenario"] == reform].sort_values("order")
        draw_waterfall(axis, mine, lang, divisor)
        axis_title(axis, comparison.name(reform, lang), loc="left", weight="bold")
        width = axis.get_position().width * figure.bbox.width
        axis.set_xlabel(wrapped(text(lang, "fund_waterfall.axis", unit=unit), figure,
                                STYLE["font.size"], share=0.85, width=width))
    handles = [Patch(color=WINNER), Patch(color=LOSER), Patch(color=NOISE)]
    labels = [text(lang, "fund_waterfall.raises"), text(lang, "fund_waterfall.lowers"),
              text(lang, "fund_waterfall.noise_legend")]
    figure_title(figure, title)
    legend_below(figure, handles, labels, title=text(lang, "band_note"),
                 title_fontsize=STYLE["font.size"] - 1)
    return save(figure, data, folder, "fund_waterfall", title)


def draw_waterfall(axis, steps: pd.DataFrame, lang: str, divisor: float) -> None:
    """One reform: rows top-down from the baseline (0) through each part to the total."""
    if steps.empty:
        axis.set_axis_off()
        return
    start = float(steps[steps["part"] == "start"]["mean"].iloc[0])
    end = float(steps[steps["part"] == "end"]["mean"].iloc[0])
    parts = steps[steps["kind"] == "part"]
    rows = len(parts) + 2
    y = np.arange(rows)[::-1]
    labels = [text(lang, "fund_waterfall.start_tick",
                   value=quantities(lang, "money", [start])[0])]
    position = 0.0
    for row, (_, part) in zip(y[1:-1], parts.iterrows(), strict=True):
        left = (part["before"] - start) / divisor
        width = part["mean"] / divisor
        colour = NOISE if part["noise"] else (WINNER if part["mean"] > 0 else LOSER)
        axis.barh(row, width, left=left, color=colour, height=0.62, zorder=3)
        if np.isfinite(part["p5"]) and part["p5"] != part["p95"]:
            axis.plot([left + (part["p5"]) / divisor, left + part["p95"] / divisor], [row, row],
                      color="#333333", linewidth=0.9, zorder=4)
        axis.plot([position, position], [row + 1 - 0.31, row + 0.31], color="#999999",
                  linewidth=0.6, zorder=2)
        position = left + width
        labels.append(text(lang, f"short.{part['part']}"))
        right = max(left, left + width, *((left + part["p95"] / divisor,)
                                          if np.isfinite(part["p95"]) else ()))
        axis.annotate(quantities(lang, "money", [part["mean"]], signed=True)[0],
                      (right, row), xytext=(3, 0),
                      textcoords="offset points", va="center", ha="left",
                      fontsize=STYLE["font.size"] - 2, color="#333333")
    total = parts["mean"].sum()
    axis.barh(y[-1], total / divisor, color="#555555", height=0.62, zorder=3)
    axis.plot([position, position], [y[-1] + 1 - 0.31, y[-1] + 0.31], color="#999999",
              linewidth=0.6, zorder=2)
    axis.annotate(quantities(lang, "money", [end - start], signed=True)[0],
                  (max(0.0, total / divisor), y[-1]), xytext=(3, 0),
                  textcoords="offset points", va="center", ha="left",
                  fontsize=STYLE["font.size"] - 2, fontweight="bold")
    labels.append(text(lang, "fund_waterfall.end_tick", value=quantities(lang, "money",
                                                                          [end])[0]))
    axis.plot([0, 0], [y[0] - 0.31, y[0] + 0.31], color="#555555", linewidth=2.5, zorder=3)
    axis.axvline(0, color="#333333", linewidth=0.6)
    axis.set_yticks(y, labels)
    axis.grid(axis="y", visible=False)
    axis.margins(x=0.18)


def ranking_rows(verdicts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The hospitals drawn (all, or the ``EACH_END`` largest gains and losses) and the rest."""
    ordered = verdicts.sort_values("rank")
    if len(ordered) <= SHOW_ALL:
        return ordered, None
    return (pd.concat([ordered.head(EACH_END), ordered.tail(EACH_END)]),
            ordered.iloc[EACH_END:-EACH_END])


def hospital_ranking(comparison: Comparison, lang: str, folder: Path) -> Chart:
    verdicts = comparison.findings.verdicts
    data = verdicts[(verdicts["period"] == "cumulative")].reset_index(drop=True)
    mine = data[data["against"] == "baseline"]
    reforms = comparison.reforms
    effect = mine.groupby("scenario")["mean"].apply(lambda m: m.abs().mean())
    shown = ranked(reforms, effect, MAX_RANKINGS)
    title = top_title(lang, text(lang, "hospital_ranking.title", **years(comparison)), shown,
                      reforms)
    count = max(len(mine[mine["scenario"] == r]) for r in shown) if len(mine) else 0
    rows = min(count, SHOW_ALL) + (1 if count > SHOW_ALL else 0)
    figure, axes = panel_grid(len(shown), 2, (8.0 if len(shown) == 1 else 5.6,
                                              0.5 + 0.17 * max(rows, 6)),
                              layout="constrained", sharex=True)
    values = mine[["mean", "p5", "p95"]].abs().to_numpy(dtype=float)
    divisor, _, _, unit = money_unit(lang, *(values.max(axis=1).tolist() or [0.0]))
    for axis, reform in zip(axes, shown, strict=True):
        drawn, rest = ranking_rows(mine[mine["scenario"] == reform])
        positions = np.arange(len(drawn))[::-1].astype(float)
        if rest is not None:  # a gap row for the hospitals not drawn, between gains and losses
            positions[EACH_END:] -= 1
            gap = positions[EACH_END - 1] - 1
            low, high = quantities(lang, "money", [rest["mean"].min(), rest["mean"].max()],
                                   signed=True)
            axis.text(0.02, gap, text(lang, "hospital_ranking.rest", count=len(rest), low=low,
                                      high=high),
                      transform=axis.get_yaxis_transform(), va="center", ha="left",
                      fontsize=STYLE["font.size"] - 2, color="#555555", style="italic")
        for position, (_, row) in zip(positions, drawn.iterrows(), strict=True):
            colour = LEVEL_COLOURS[row["level"]]
            axis.plot([row["p5"] / divisor, row["p95"] / divisor], [position, position],
                      color=colour, linewidth=0.9, alpha=0.7, zorder=2)
            axis.plot([row["mean"] / divisor], [position], marker="o", markersize=5,
                      linestyle="", color=colour, markeredgewidth=1.2, zorder=3,
                      markerfacecoloralt="white", fillstyle=FILL[row["ownership"]])
        axis.axvline(0, color="#333333", linewidth=0.6)
        axis.set_yticks(positions, [str(h) for h in drawn["hospital_id"]],
                        fontsize=STYLE["font.size"] - 3)
        axis.grid(axis="y", visible=False)
        axis_title(axis, comparison.name(reform, lang), loc="left", weight="bold")
        width = axis.get_position().width * figure.bbox.width
        axis.set_xlabel(wrapped(text(lang, "hospital_ranking.axis", unit=unit), figure,
                                STYLE["font.size"], share=0.85, width=width))
    handles = [Line2D([], [], linestyle="", marker="o", color=LEVEL_COLOURS[level])
               for level in LEVELS]
    owners = [o for o in FILL if (mine["ownership"] == o).any()]
    handles += [Line2D([], [], linestyle="", marker="o", color="#555555",
                       fillstyle=FILL[owner], markerfacecoloralt="white") for owner in owners]
    handles.append(Line2D([], [], color="#555555", linewidth=0.9))
    labels = [level_name(lang, level) for level in LEVELS] + [
        text(lang, f"hospital_ranking.{owner}") for owner in owners] + [
        text(lang, "hospital_ranking.whisker")]
    figure_title(figure, title)
    legend_below(figure, handles, labels)
    return save(figure, data, folder, "hospital_ranking", title)


DRAWERS = {"fund_waterfall": fund_waterfall, "hospital_ranking": hospital_ranking}


def draw_findings_charts(comparison: Comparison, lang: str, folder: Path) -> list[Chart]:
    """The findings' charts in one language, into ``folder``."""
    with chart_style(lang):
        return [DRAWERS[name](comparison, lang, folder) for name in FINDINGS_CHARTS]

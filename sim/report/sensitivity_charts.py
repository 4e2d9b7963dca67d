"""Charts of ``drgsim sensitivity`` (house style, each a PNG with its CSV twin): indices with
their intervals per outcome, a tornado, outcome against each parameter, and PRIM's peeling
trajectory with the chosen box. Every chart with one panel per outcome or parameter is a grid of
small multiples (at most three or four panels a row), so that many outcomes or parameters make a
taller figure, never an unreadable row. Reads the analysis (stored tables) only.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.report.charts import (
    LEVEL_COLOURS,
    STYLE,
    chart_style,
    figure_title,
    legend_below,
    panel_grid,
)

FIRST, TOTAL, EXTRA = LEVEL_COLOURS["secondary"], LEVEL_COLOURS["tertiary"], "#8e6c8a"
LOW, HIGH = LEVEL_COLOURS["secondary"], LEVEL_COLOURS["tertiary"]
MAX_FACTORS = 12  # bars per panel: the largest, with a note of how many are left out


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_") or "x"


def _save(figure, data: pd.DataFrame, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)
    data.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return path


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1):]


def indices_chart(analysis, view: str, folder: Path) -> Path:
    """Per outcome, each factor's indices with their 95% intervals, largest first."""
    data = analysis.indices[(analysis.indices["scenario"] == view)
                            & (analysis.indices["index"] != "none")]
    method = analysis.method
    shown = {"sobol": [("S1", FIRST, "first-order S1"), ("ST", TOTAL, "total ST")],
             "morris": [("mu_star", FIRST, "μ* (mean |elementary effect|)"),
                        ("sigma", TOTAL, "σ (interactions, non-linearity)")]}.get(
        method, [("SRC", FIRST, "standardised regression coefficient")])
    figure, axes = panel_grid(len(analysis.outcomes), 3, (3.6, 0.9 + 0.28 * min(
        MAX_FACTORS, len(analysis.sweep.names) + len(analysis.groups or {}))),
        layout="constrained")
    for axis, outcome in zip(axes, analysis.outcomes, strict=True):
        mine = data[(data["outcome"] == outcome) & data["index"].isin([k for k, _, _ in shown])]
        key = shown[-1][0] if method == "sobol" else shown[0][0]
        order = (mine[mine["index"] == key].assign(size=lambda d: d["value"].abs())
                 .sort_values("size", ascending=False)["factor"].tolist())
        left_out = max(len(order) - MAX_FACTORS, 0)
        order = order[:MAX_FACTORS][::-1]
        height = 0.8 / len(shown)
        for index, (name, colour, label) in enumerate(shown):
            rows = mine[mine["index"] == name].set_index("factor").reindex(order)
            where = np.arange(len(order)) + (index - (len(shown) - 1) / 2) * height
            conf = rows["conf"].to_numpy(float)
            axis.barh(where, rows["value"].to_numpy(float), height=height * 0.9, color=colour,
                      label=label, xerr=np.where(np.isfinite(conf), conf, 0), ecolor="#333333",
                      capsize=2, error_kw={"linewidth": 0.8})
        axis.set_yticks(range(len(order)), [_short(f) for f in order])
        axis.axvline(0, color="#333333", linewidth=0.6)
        axis.grid(axis="y", visible=False)
        title = outcome + (f" (+{left_out} more in the CSV)" if left_out else "")
        fit = analysis.summary.get("r2", {}).get(f"{view}/{outcome}")
        if fit is not None:
            title += f", R² {fit:.2f}"
        noise = analysis.summary["replication_noise"].get(f"{view}/{outcome}")
        if noise:
            title += f"\nnoise between replications {noise:.0%}"
        axis.set_title(title, fontsize=STYLE["font.size"])
        if not len(order):
            axis.text(0.5, 0.5, "does not vary", ha="center", va="center",
                      transform=axis.transAxes, color="#555555")
    handles, labels = axes[0].get_legend_handles_labels()
    figure_title(figure, f"Sensitivity of {view}, {analysis.year}: "
                 + {"sobol": "Sobol' indices", "morris": "Morris screening"}.get(
                     method, f"{method} design: regression coefficients (no Sobol' design)")
                 + " (bars: 95% intervals)", STYLE["axes.titlesize"])
    legend_below(figure, handles, labels, columns=len(handles))
    return _save(figure, data, folder, f"indices_{_slug(view)}")


def tornado_chart(analysis, view: str, folder: Path) -> Path:
    data = analysis.tornado[analysis.tornado["scenario"] == view]
    figure, axes = panel_grid(len(analysis.outcomes), 3, (3.6, 0.9 + 0.28 * min(
        MAX_FACTORS, len(analysis.sweep.names))), layout="constrained")
    for axis, outcome in zip(axes, analysis.outcomes, strict=True):
        mine = data[data["outcome"] == outcome].head(MAX_FACTORS).iloc[::-1]
        centre = float(mine["mean"].iloc[0]) if len(mine) else 0.0
        where = np.arange(len(mine))
        axis.barh(where, mine["low"] - centre, left=centre, color=LOW, height=0.7,
                  label="parameter in its lowest fifth")
        axis.barh(where, mine["high"] - centre, left=centre, color=HIGH, height=0.7,
                  alpha=0.85, label="parameter in its highest fifth")
        axis.axvline(centre, color="#333333", linewidth=0.8)
        axis.set_yticks(where, [_short(p) for p in mine["parameter"]])
        axis.grid(axis="y", visible=False)
        axis.set_title(f"{outcome} (line: mean {centre:,.4g})", fontsize=STYLE["font.size"])
    handles, labels = axes[0].get_legend_handles_labels()
    figure_title(figure, f"Tornado: {view}, {analysis.year}", STYLE["axes.titlesize"])
    legend_below(figure, handles, labels, columns=2)
    return _save(figure, data, folder, f"tornado_{_slug(view)}")


def scatter_chart(analysis, view: str, outcome: str, folder: Path) -> Path:
    """The outcome (point means) against each parameter, one panel per parameter."""
    names = analysis.sweep.names
    points = analysis.points[analysis.points["scenario"] == view]
    figure, axes = panel_grid(len(names), 4, (2.6, 2.3), layout="constrained")
    meeting = None
    if analysis.prim and analysis.prim.get("scenario") == view:
        from sim.experiments.sensitivity import OPERATORS, parse_condition

        column, operator, number = parse_condition(analysis.prim["condition"],
                                                   analysis.sweep.outcome_columns)
        if column in points:
            meeting = OPERATORS[operator](points[column].to_numpy(float), number)
    y = points[outcome].to_numpy(float)
    for axis, name in zip(axes, names, strict=True):
        values = points[name]
        if pd.api.types.is_numeric_dtype(values):
            x = values.to_numpy(float)
        else:
            levels = sorted(set(values.astype(str)))
            x = np.array([levels.index(v) for v in values.astype(str)], float)
            axis.set_xticks(range(len(levels)), [_short(v, 10) for v in levels])
        colours = (np.where(meeting, TOTAL, FIRST) if meeting is not None else FIRST)
        axis.scatter(x, y, s=8, c=colours, alpha=0.6, linewidths=0)
        axis.set_xlabel(_short(name, 34), fontsize=STYLE["font.size"] - 1)
    axes[0].set_ylabel(outcome)
    note = (f" (red: {analysis.prim['condition']})" if meeting is not None else "")
    figure_title(figure, f"{outcome} against each parameter: {view}, {analysis.year}, one dot "
                 f"per design point{note}", STYLE["axes.titlesize"])
    return _save(figure, points[["point", *names, outcome]], folder,
                 f"scatter_{_slug(view)}_{_slug(outcome)}")


def prim_chart(analysis, folder: Path) -> Path:
    trajectory, box, prim = analysis.trajectory, analysis.box, analysis.prim
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.0, max(3.6, 1.2 + 0.3 * len(box))),
                                         layout="constrained")
    image = left.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["mass"],
                         cmap="viridis", s=18, zorder=3)
    left.plot(trajectory["coverage"], trajectory["density"], color="#999999", linewidth=0.8)
    chosen = trajectory[trajectory["chosen"]]
    left.scatter(chosen["coverage"], chosen["density"], s=90, facecolors="none",
                 edgecolors="#a4161a", linewidths=1.5, zorder=4, label="chosen (peeled)")
    left.scatter([prim["coverage"]], [prim["density"]], marker="*", s=110, color="#a4161a",
                 zorder=5, label="chosen, after pasting")
    left.axhline(prim["density_min"], color="#a4161a", linewidth=0.8, linestyle=":")
    left.set_xlabel("coverage (of the points meeting it, share in the box)")
    left.set_ylabel("density (share of the box meeting it)")
    left.set_xlim(-0.02, 1.02)
    left.set_ylim(-0.02, 1.02)
    left.legend(loc="lower left")
    figure.colorbar(image, ax=left, label="box mass (share of all points)")
    rows = box.iloc[::-1]
    where = np.arange(len(rows))
    width = np.maximum(rows["high_unit"] - rows["low_unit"], 0.012)  # one value: still seen
    right.barh(where, width, left=np.minimum(rows["low_unit"], 1 - width),
               color=[TOTAL if r else "#cccccc" for r in rows["restricted"]], height=0.6)
    labels = []
    for r in rows.itertuples():
        text = _short(r.parameter, 30)
        if r.restricted and r.low is not None and r.low == r.low:
            text += f"\n[{r.low:,.4g}, {r.high:,.4g}]"
        elif r.restricted and r.levels:
            text += f"\n{r.levels}"
        labels.append(text)
    right.set_yticks(where, labels, fontsize=STYLE["font.size"] - 1)
    right.set_xlim(0, 1)
    right.set_xlabel("place in the swept range (0 low, 1 high)")
    right.grid(axis="y", visible=False)
    right.set_title(f"chosen box: coverage {prim['coverage']:.0%}, density "
                    f"{prim['density']:.0%},\nmass {prim['mass']:.0%} (red: limited)",
                    fontsize=STYLE["font.size"])
    figure_title(figure, f"PRIM: where {prim['condition']} ({prim['scenario']}, "
                 f"{prim['year']}; {prim['points_meeting']} of {prim['points']} points)",
                 STYLE["axes.titlesize"])
    data = trajectory.assign(part="trajectory")
    data = pd.concat([data, box.assign(part="box")], ignore_index=True)
    return _save(figure, data, folder, "prim")


def draw_charts(analysis, folder: Path) -> list[Path]:
    paths = []
    with chart_style("en"):
        for view in analysis.views:
            paths.append(indices_chart(analysis, view, folder))
            paths.append(tornado_chart(analysis, view, folder))
            for outcome in analysis.outcomes:
                paths.append(scatter_chart(analysis, view, outcome, folder))
        if analysis.trajectory is not None:
            paths.append(prim_chart(analysis, folder))
    return paths

"""Default charts of a run (matplotlib, one house style), each saved with a CSV twin.

Reads the stored tables of a run folder; never a live model (ARCHITECTURE §1 layers).
"""

from __future__ import annotations

import logging
import math
import re
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.model.fund import RESERVE_WARNING_MONTHS  # noqa: E402
from sim.report.fonts import CJK_FAMILY, font_family  # noqa: E402
from sim.report.labels import check_lang, level_name, money_unit, text  # noqa: E402

STYLE = {
    "figure.figsize": (7.0, 4.0), "figure.dpi": 110, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9,
    "axes.titlesize": 10, "axes.titleweight": "bold", "legend.frameon": False,
}
LEVEL_COLOURS = {"primary": "#4c9f70", "secondary": "#3a7ca5", "tertiary": "#d1495b"}


class RegularCJKTitles(logging.Filter):
    """Drop matplotlib's note that the CJK font has no bold face (titles use its regular one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("Failed to find font weight" in message and CJK_FAMILY in message)


@contextmanager
def chart_style(lang: str):
    """The house style with the fonts of ``lang`` (Chinese glyphs in both languages)."""
    check_lang(lang)
    style = {**STYLE, "font.family": font_family(lang), "svg.hashsalt": "drgsim",
             "axes.unicode_minus": True}
    logger, quiet = logging.getLogger("matplotlib.font_manager"), RegularCJKTitles()
    logger.addFilter(quiet)
    try:
        with plt.rc_context(style):
            yield
    finally:
        logger.removeFilter(quiet)


def legend_below(figure, handles: list, labels: list[str], columns: int = 3, **options):
    """One legend under the panels (constrained layout keeps it off the data), in as many
    columns (at most ``columns``) as fit the figure's width; its title wrapped to fit."""
    if not handles:
        return None
    renderer = figure.canvas.get_renderer()
    options = {"fontsize": STYLE["font.size"], **options}
    if options.get("title"):
        options["title"] = wrapped(options["title"], figure, options.get(
            "title_fontsize", options["fontsize"]))
    for count in range(min(len(handles), columns), 0, -1):
        legend = figure.legend(handles, labels, loc="outside lower center", ncol=count,
                               **options)
        if count == 1 or legend.get_window_extent(renderer).width <= 0.98 * figure.bbox.width:
            return legend
        legend.remove()
    return None


def wrapped(text: str, figure, fontsize: float, share: float = 0.96,
            weight: str = "normal", width: float | None = None) -> str:
    """``text`` broken into lines that each fit ``share`` of the figure's width (or of ``width``
    pixels), measured with the figure's renderer, so Chinese and Latin text both fit."""
    from matplotlib.text import Text

    renderer = figure.canvas.get_renderer()
    probe = Text(0, 0, "", fontsize=fontsize, fontweight=weight, figure=figure)
    limit = share * (figure.bbox.width if width is None else width)

    def width(line: str) -> float:
        probe.set_text(line)
        return probe.get_window_extent(renderer).width

    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for piece in re.findall(r"\S+\s*|\s+", paragraph) if " " in paragraph else paragraph:
            if line and width(line + piece) > limit:
                lines.append(line.rstrip())
                line = piece.lstrip()
            else:
                line += piece
        lines.append(line.rstrip())
    return "\n".join(lines)


def axis_title(axis, text_: str, size: float | None = None, weight: str = "normal",
               **options) -> None:
    """A panel's title, wrapped to the panel's width (long reform names in small multiples)."""
    size = size or STYLE["font.size"]
    figure = axis.get_figure()
    width = axis.get_position().width * figure.bbox.width
    axis.set_title(wrapped(text_, figure, size, share=0.85, weight=weight, width=width),
                   fontsize=size,
                   fontweight=weight, **options)


def figure_title(figure, text_: str, size: float | None = None) -> None:
    """The figure's bold title, wrapped to its width."""
    size = size or STYLE["axes.titlesize"] + 1
    figure.suptitle(wrapped(text_, figure, size, weight="bold"), fontsize=size,
                    fontweight="bold")


def _save(figure, data: pd.DataFrame, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    # zlib level 1 instead of Pillow's 6: ~0.05 s less per chart, files ~15% larger (issue 13)
    figure.savefig(path, metadata={"Software": None}, pil_kwargs={"compress_level": 1})
    plt.close(figure)
    data.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return path


def run_charts(tables: dict[str, pd.DataFrame], folder: Path, lang: str = "en") -> list[Path]:
    """The charts of one run in ``lang``: the fund's surplus of the year and months of reserve
    (pooled, and by scheme), point value, coded vs true CMI, admissions by level. Legends sit
    under the panels, never on the data."""
    yearly, by_level = tables["yearly"], tables["yearly_by_level"]
    years = sorted(yearly["year"].unique())
    paths = []

    def figure_and_axis():
        figure, axis = plt.subplots(layout="constrained")
        axis.set_xlabel(text(lang, "year_axis"))
        return figure, axis

    with chart_style(lang):
        figure, left = figure_and_axis()
        divisor, _, _, unit = money_unit(lang, *yearly["fund_balance"].abs())
        bars = left.bar(yearly["year"], yearly["fund_balance"] / divisor, color="#3a7ca5",
                        alpha=0.8)
        left.axhline(0, color="#333333", linewidth=0.6)
        left.set_ylabel(text(lang, "fund_balance.balance", unit=unit))
        left.set_xticks(years)
        left.grid(axis="x", visible=False)
        right = left.twinx()
        line, = right.plot(yearly["year"], yearly["reserve_months"], color="#d1495b",
                           marker="o")
        right.set_ylabel(text(lang, "fund_balance.reserve"))
        right.grid(False)
        figure_title(figure, text(lang, "run.fund_balance.title"))
        legend_below(figure, [bars, line], [text(lang, "run.surplus"),
                                            text(lang, "fund_balance.reserve")])
        paths.append(_save(figure, yearly[["year", "fund_balance", "accumulated_balance",
                                           "reserve_months"]], folder, "fund_balance"))

        # each scheme's fund as it is (§2.1; issue 10): months of reserve by scheme and pooled,
        # against the 6-month threshold (sim.model.fund)
        fund = tables["fund_by_scheme"]
        figure, axis = figure_and_axis()
        for scheme, colour in (("employee", "#3a7ca5"), ("resident", "#d1495b")):
            own = fund[fund["scheme"] == scheme]
            axis.plot(own["year"], own["reserve_months"], marker="o", color=colour,
                      label=text(lang, f"run.scheme.{scheme}"))
        axis.plot(yearly["year"], yearly["reserve_months"], marker="o", color="#666666",
                  linestyle="--", label=text(lang, "run.pooled"))
        axis.axhline(RESERVE_WARNING_MONTHS, color="#a4161a", linewidth=0.8, linestyle=":",
                     label=text(lang, "run.threshold", months=f"{RESERVE_WARNING_MONTHS:g}"))
        axis.axhline(0, color="#333333", linewidth=0.6)
        axis.set_ylabel(text(lang, "fund_balance.reserve"))
        axis.set_xticks(years)
        figure_title(figure, text(lang, "run.fund_by_scheme.title"))
        legend_below(figure, *axis.get_legend_handles_labels(), columns=4)
        paths.append(_save(figure, fund[["year", "scheme", "fund_revenue", "fund_spending",
                                         "fund_balance", "accumulated_balance",
                                         "reserve_months"]], folder, "fund_by_scheme"))

        figure, axis = figure_and_axis()
        monthly = tables["monthly"]
        time = monthly["year"] + (monthly["month"] - 0.5) / 12
        axis.plot(time, monthly["monthly_point_value"], alpha=0.7,
                  label=text(lang, "run.point_value.monthly"))
        # each year's value across its whole year (the last one too), ticks at mid-year
        axis.step([*yearly["year"], yearly["year"].iloc[-1] + 1],
                  [*yearly["annual_point_value"], yearly["annual_point_value"].iloc[-1]],
                  where="post", label=text(lang, "run.point_value.annual"), color="#d1495b")
        axis.set_xticks([year + 0.5 for year in years], [str(year) for year in years])
        axis.set_ylabel(text(lang, "point_value.axis"))
        figure_title(figure, text(lang, "point_value.title"))
        legend_below(figure, *axis.get_legend_handles_labels())
        twin = monthly[["year", "month", "monthly_point_value"]].merge(
            yearly[["year", "annual_point_value"]], on="year")
        paths.append(_save(figure, twin, folder, "point_value"))

        figure, axis = figure_and_axis()
        axis.plot(yearly["year"], yearly["true_cmi"], marker="o",
                  label=text(lang, "run.true_cmi"))
        axis.plot(yearly["year"], yearly["coded_cmi"], marker="o",
                  label=text(lang, "run.coded_cmi"))
        axis.fill_between(yearly["year"], yearly["true_cmi"], yearly["coded_cmi"], alpha=0.15,
                          label=text(lang, "run.gap"))
        axis.set_ylabel("CMI")
        axis.set_xticks(years)
        figure_title(figure, text(lang, "cmi.title"))
        legend_below(figure, *axis.get_legend_handles_labels())
        paths.append(_save(figure, yearly[["year", "true_cmi", "coded_cmi", "upcoded_share"]],
                           folder, "cmi"))

        figure, axis = figure_and_axis()
        wide = by_level.pivot(index="year", columns="level", values="admissions")
        bottom = None
        for level in ("primary", "secondary", "tertiary"):
            if level in wide:
                axis.bar(wide.index, wide[level], bottom=bottom,
                         label=level_name(lang, level), color=LEVEL_COLOURS[level])
                bottom = wide[level] if bottom is None else bottom + wide[level]
        axis.set_ylabel(text(lang, "run.admissions.axis"))
        axis.set_xticks(years)
        axis.grid(axis="x", visible=False)
        figure_title(figure, text(lang, "run.admissions.title"))
        legend_below(figure, *axis.get_legend_handles_labels())
        paths.append(_save(figure, by_level[["year", "level", "admissions", "basic_cases"]],
                           folder, "admissions_by_level"))
    return paths


def panel_grid(count: int, columns: int = 3, panel: tuple[float, float] = (3.2, 2.6),
               **options):
    """Small multiples: ``count`` panels in rows of at most ``columns`` (a figure that grows
    downwards, never into an unreadable row); spare panels are hidden. Returns the figure and
    the ``count`` axes in reading order."""
    count = max(count, 1)
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(panel[0] * columns,
                                                        0.9 + panel[1] * rows),
                                squeeze=False, **options)
    flat = list(axes.ravel())
    for spare in flat[count:]:
        spare.set_visible(False)
    return figure, flat[:count]

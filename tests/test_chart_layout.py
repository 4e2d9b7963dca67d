"""Every chart that `drgsim run`, `drgsim compare` and `drgsim sensitivity` draw is laid out so
that it can be read (issue 14, item 6): no text outside the figure, no legend over data, no
markers hiding each other. The checks walk each figure's artists (tests/figure_checks.py), so a
new chart is checked as soon as a command draws it: the figures are kept open while the
commands' own drawing functions run, and every one of them is checked."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.commands.compare import compare_to_folder
from sim.commands.run import run_to_folder
from sim.experiments import sensitivity as sa
from sim.report import sensitivity_charts
from sim.report.charts import run_charts
from sim.report.compare_charts import CHARTS, draw_charts, load_comparison
from sim.report.findings_charts import FINDINGS_CHARTS, draw_findings_charts
from sim.report.labels import LANGS
from tests import figure_checks
from tests.test_sensitivity import ishigami, sobol_sample, synthetic_folder


@pytest.fixture
def kept(monkeypatch) -> list[Figure]:
    """The figures drawn while the test runs: ``plt.close`` keeps them for the checks."""
    figures: list[Figure] = []

    def keep(figure=None):
        if isinstance(figure, Figure):
            figures.append(figure)

    monkeypatch.setattr(plt, "close", keep)
    yield figures
    monkeypatch.undo()
    for figure in figures:
        plt.close(figure)


def assert_clean(figures: list[Figure]) -> None:
    found = [problem for figure in figures for problem in figure_checks.problems(figure)]
    assert not found, "\n".join(found)


@pytest.fixture(scope="module")
def comparison_folder(tmp_path_factory) -> Path:
    """A small comparison of three reforms with long English titles (two deltas and the whole
    rate policy, which has no point value)."""
    from sim.resources import shipped

    root = tmp_path_factory.mktemp("layout")
    with ThreadPoolExecutor(max_workers=1) as executor:
        folder, _ = compare_to_folder(
            "default", "point", [shipped("reforms", "audit_double", ".yaml"),
                                 shipped("reforms", "budget_growth_3pct", ".yaml"),
                                 shipped("policies", "rate", ".yaml")], 2, seed=5, years=2,
            start_year=2023, scale=0.02, out=root / "compare", executor=executor,
            progress=False, briefing=False)
    return folder


@pytest.mark.parametrize("lang", [pytest.param("zh"), pytest.param("en", marks=pytest.mark.slow)])
def test_comparison_charts_are_laid_out_cleanly(comparison_folder, kept, tmp_path, lang):
    comparison = load_comparison(comparison_folder)
    draw_charts(comparison, lang, tmp_path)
    draw_findings_charts(comparison, lang, tmp_path)
    assert len(kept) == len(CHARTS) + len(FINDINGS_CHARTS)
    assert_clean(kept)


@pytest.mark.parametrize("reforms", [1, pytest.param(12, marks=pytest.mark.slow)])
def test_comparison_charts_of_one_and_of_twelve_reforms_are_laid_out_cleanly(
        comparison_folder, kept, tmp_path, reforms):
    """One reform: the smallest heatmap (its colour bar's label was clipped); twelve: small
    multiples."""
    from tests.test_briefing import many_reforms

    folder = many_reforms(comparison_folder, tmp_path / "many", reforms)
    draw_charts(load_comparison(folder), "zh", tmp_path / "charts")
    assert len(kept) == len(CHARTS)
    assert_clean(kept)


def test_run_charts_are_laid_out_cleanly(kept, tmp_path):
    tables, *_ = run_to_folder("default", "point", [], 2, 2023, 3, tmp_path / "run",
                               scale=0.02, progress=False, charts=False)
    for lang in LANGS:
        run_charts(tables, tmp_path / lang, lang)
    assert len(kept) >= 2 * 5
    assert_clean(kept)


def test_sensitivity_charts_are_laid_out_cleanly(kept, tmp_path):
    unit = sobol_sample(64, 3)
    y = ishigami(unit)
    folder = synthetic_folder(tmp_path / "sweep", "sobol", unit, {"y": y, "z": y * 2 + 1},
                              replications=2, noise=0.3, options={"second_order": False},
                              reform={"y": y + unit[:, 2], "z": y})
    analysis = sa.analyse(folder, condition="y > 5")
    sensitivity_charts.draw_charts(analysis, tmp_path / "charts")
    lhs = synthetic_folder(tmp_path / "lhs", "lhs", np.random.default_rng(2).random((60, 3)),
                           {"y": np.arange(60.0)})
    sensitivity_charts.draw_charts(sa.analyse(lhs), tmp_path / "charts_lhs")
    assert len(kept) >= 6
    assert_clean(kept)


# ---- the checks themselves can fail ---------------------------------------------------------

def test_the_checks_find_clipped_text_a_legend_over_data_and_hidden_points():
    figure = Figure(figsize=(4, 3))
    FigureCanvasAgg(figure)
    axis, other = figure.subplots(1, 2)
    axis.bar([0, 1, 2], [3, 3, 3], label="bars")
    axis.legend(loc="center")                         # over the bars
    axis.set_ylabel("a label\n" * 12)                  # taller than the figure
    axis.scatter([0.5] * 10, [1.0] * 10)              # ten markers on one pixel
    axis.set_title("a title much too long for its panel")
    other.set_title("and another one beside it")      # the two run together
    found = figure_checks.problems(figure)
    assert any("lies outside the figure" in p for p in found), found
    assert any("overlap" in p and "another one" in p for p in found), found
    assert any("covers a bar" in p for p in found), found
    assert any("9 of 10 markers" in p for p in found), found

"""`drgsim run` writes a short report of its one scenario in Chinese and English side by side
(issue 14, item 5), from the comparison briefing's own code, and `drgsim report` rebuilds it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from sim.commands.cli import main
from sim.commands.run import run_to_folder
from sim.inputs.policy import SCHEMA
from sim.report.briefing import STYLESHEET
from sim.report.parameter_labels import parameter_label
from sim.report.run_report import CHART_TITLES


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    _, folder, *_ = run_to_folder("default", "point", [], 2, 2023, 3, out, scale=0.02,
                                  progress=False, pdf=False)
    return Path(folder)


def test_a_run_writes_its_report_and_charts_in_both_languages(run_folder):
    for lang in ("zh", "en"):
        page = (run_folder / f"report.{lang}.html").read_text("utf-8")
        assert STYLESHEET.split("FONTS")[-1][:200] in page  # the briefing's page and styles
        assert len(re.findall(r'<img class="chart"', page)) == len(CHART_TITLES)
        for name in CHART_TITLES:
            assert (run_folder / "charts" / lang / f"{name}.png").is_file()
            assert (run_folder / "charts" / lang / f"{name}.csv").is_file()
    zh = (run_folder / "report.zh.html").read_text("utf-8")
    assert "<title>医保支付模拟简报（单一方案）</title>" in zh and "总额预算下的点数法" in zh
    assert "2023年：" in zh and "收不抵支的医院" in zh
    # every parameter in force, named in Chinese, its value in words
    for path in ("audit.sample_rate", "patients.deductible", "outliers.high_multiple_bands"):
        assert parameter_label("zh", path) in zh
    assert "职工：一级医院" in zh and "基准点数≤100：3×" in zh
    table = zh[zh.index("生效的参数"):]
    assert not re.search(r"[{}\[\]]|&quot;", table.split("</table>")[0])
    assert sum(parameter_label("zh", path) in zh for path in SCHEMA) > 40
    en = (run_folder / "report.en.html").read_text("utf-8")
    assert "<title>Payment simulation briefing (one scenario)</title>" in en
    assert "Point method under a global budget" in en and "audit sample rate" in en


def test_report_rebuilds_one_language_of_a_run_and_leaves_the_other(run_folder, tmp_path,
                                                                   capsys, monkeypatch):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run_folder, copy)

    def digest() -> dict[str, str]:
        return {str(p.relative_to(copy)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(copy.rglob("*")) if p.is_file()}

    before = digest()
    (copy / "report.zh.html").write_text("kept", "utf-8")
    monkeypatch.setenv("DRGSIM_CHROMIUM", str(tmp_path / "none"))
    assert main(["report", str(copy), "--lang", "en"]) == 0
    captured = capsys.readouterr()
    assert f"Rebuilt {copy / 'report.en.html'}" in captured.out
    assert "report.en.pdf skipped" in captured.err and "report.zh" not in captured.err
    after = digest()
    assert (copy / "report.zh.html").read_text("utf-8") == "kept"
    assert after["report.en.html"] == before["report.en.html"]  # the same bytes again
    assert {k: v for k, v in after.items() if k != "report.zh.html"} == {
        k: v for k, v in before.items() if k != "report.zh.html"}


def test_run_lang_writes_one_language(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DRGSIM_CHROMIUM", "")
    out = tmp_path / "en"
    assert main(["run", "--years", "1", "--scale", "0.02", "--lang", "en", "--out",
                 str(out)]) == 0
    assert (out / "report.en.html").is_file() and not (out / "report.zh.html").exists()
    assert sorted(p.name for p in (out / "charts").iterdir()) == ["en"]
    captured = capsys.readouterr()
    assert f"report: {out / 'report.en.html'}" in captured.out
    warnings = [line for line in captured.err.splitlines() if line.startswith("drgsim")]
    assert warnings == ["drgsim: warning: report.en.pdf skipped: DRGSIM_CHROMIUM='' is not an "
                        "executable file"]
    out = tmp_path / "none"
    assert main(["run", "--years", "1", "--scale", "0.02", "--no-charts", "--out",
                 str(out)]) == 0
    assert not (out / "charts").exists() and not list(out.glob("report*"))


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_report_build_leaves_the_folder_as_it_was(run_folder, tmp_path, monkeypatch,
                                                           failure):
    """A report build of a folder without charts that fails while drawing (a full disk,
    Ctrl-C) leaves no ``charts/`` behind, not even an empty one, and changes no file."""
    import shutil

    from conftest import tree

    import sim.report.charts
    from sim.report.run_report import build_run_report

    copy = tmp_path / "copy"
    shutil.copytree(run_folder, copy, ignore=shutil.ignore_patterns("charts", "report.*"))
    before = tree(copy)

    def failing(tables, where, lang):
        Path(where).mkdir(parents=True)
        (Path(where) / "cmi.png").write_bytes(b"half a chart")
        raise failure

    monkeypatch.setattr(sim.report.charts, "run_charts", failing)
    with pytest.raises(type(failure)):
        build_run_report(copy, pdf=False)
    assert not (copy / "charts").exists()
    assert tree(copy) == before and sorted(p.name for p in copy.iterdir()) == sorted(
        {Path(name).parts[0] for name in before})


def test_a_failed_report_build_keeps_an_empty_charts_folder_it_did_not_make(run_folder, tmp_path,
                                                                             monkeypatch):
    import shutil

    import sim.report.charts
    from sim.report.run_report import build_run_report

    copy = tmp_path / "copy"
    shutil.copytree(run_folder, copy, ignore=shutil.ignore_patterns("charts", "report.*"))
    (copy / "charts").mkdir()  # the user's (or an earlier build's), empty

    def failing(tables, where, lang):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sim.report.charts, "run_charts", failing)
    with pytest.raises(OSError):
        build_run_report(copy, pdf=False)
    assert (copy / "charts").is_dir() and not any((copy / "charts").iterdir())

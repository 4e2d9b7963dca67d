"""The briefing of `drgsim compare`: charts in Chinese and English with CSV twins, real CJK glyphs,
self-contained report.zh.html and report.en.html side by side whose headline, readings and
parameters come from the stored numbers, rebuilt byte for byte by `drgsim report` (one language
never overwriting the other, a folder of an earlier version still readable), opened in headless
Chromium and printed to PDF."""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from PIL import Image

from sim.commands.cli import main
from sim.commands.compare import compare_to_folder
from sim.report import fonts
from sim.report.briefing import build_briefing, effect
from sim.report.compare_charts import CHARTS, draw_charts, load_comparison
from sim.report.findings_charts import FINDINGS_CHARTS
from sim.report.labels import LANGS, all_strings, quantities, text
from sim.resources import shipped
from sim.store import OWN_LEFTOVERS, check_output_folder

CHROMIUM = Path("/usr/bin/chromium")
AUDIT_REFORM = """\
title: 审计比例提高
rationale: 抽查比例从10%提高到30%，处罚倍数为3
changes:
  audit.sample_rate: {2020-01-01: 0.3}
  audit.penalty_multiple: {2020-01-01: 3}
"""


def write_comparison(out: Path, reforms: list[Path], replications: int = 2, years: int = 2,
                     lang: str | None = None) -> Path:
    """A comparison folder as `drgsim compare` writes it, without the briefing."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        folder, _ = compare_to_folder("default", "point", reforms, replications, seed=5,
                                      years=years, start_year=2023, scale=0.02, out=out,
                                      lang=lang, executor=executor, progress=False,
                                      briefing=False)
    return folder


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """Baseline (point) against a Chinese-titled audit reform and the whole rate policy."""
    root = tmp_path_factory.mktemp("briefing")
    reform = root / "audit.yaml"
    reform.write_text(AUDIT_REFORM, "utf-8")
    return write_comparison(root / "stored", [reform, shipped("policies", "rate", ".yaml")])


@pytest.fixture(scope="module")
def built(stored, tmp_path_factory) -> tuple[Path, list]:
    """The stored folder copied and briefed once in both languages (without PDFs), with
    warnings recorded."""
    folder = tmp_path_factory.mktemp("built") / "compare"
    shutil.copytree(stored, folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_briefing(folder, pdf=False)
    return folder, caught


def html_of(folder: Path, lang: str = "zh") -> str:
    return (folder / f"report.{lang}.html").read_text("utf-8")


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).strip()


def test_every_chart_is_drawn_in_both_languages_with_a_csv_twin(built):
    folder, _ = built
    for lang in LANGS:
        for name in CHARTS + FINDINGS_CHARTS:
            png, csv = folder / "charts" / lang / f"{name}.png", folder / "charts" / lang / \
                f"{name}.csv"
            assert png.is_file() and csv.is_file(), (lang, name)
            with Image.open(png) as image:
                assert image.width > 500 and len(image.convert("RGB").getcolors(1 << 20)) > 20
            twin = pd.read_csv(csv)
            assert len(twin) > 0 and "scenario" in twin.columns, (lang, name)
    twin = pd.read_csv(folder / "charts" / "en" / "cmi.csv")
    assert set(twin["scenario"]) == {"Point method under a global budget", "审计比例提高",
                                     "Rate method (fixed price per weight)"}
    assert set(twin["variable"]) == {"coded_cmi", "true_cmi", "upcoding_gap"}


def test_the_cjk_font_is_found_registered_and_covers_every_chinese_label():
    path, family = fonts.cjk_font()
    assert path.is_file() and family == "Noto Sans CJK SC"
    assert fonts.register_cjk_font() == family
    assert family in {entry.name for entry in font_manager.fontManager.ttflist}
    face = FT2Font(str(path), face_index=fonts.cjk_face_index())
    assert face.family_name == family
    latin = FT2Font(font_manager.findfont("DejaVu Sans"))
    characters = set("".join(all_strings("zh"))) - set("{}\n")
    assert any(0x4E00 <= ord(c) <= 0x9FFF for c in characters)
    for character in sorted(characters):
        if ord(character) >= 0x2E80:       # CJK: the Chinese face itself must have the glyph
            assert face.get_char_index(ord(character)) != 0, character
        else:                              # others: the Chinese face or its Latin fallback
            assert (face.get_char_index(ord(character)) != 0
                    or latin.get_char_index(ord(character)) != 0), character


def test_chinese_charts_render_without_missing_glyph_boxes(built, tmp_path):
    folder, caught = built
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)
               or "Glyph" in str(w.message)]
    assert missing == []
    # the check can fail: a Chinese label drawn with the Latin font alone warns
    label = text("zh", "cmi.title")
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        with warnings.catch_warnings(record=True) as control:
            warnings.simplefilter("always")
            figure = matplotlib.figure.Figure()
            figure.suptitle(label)
            figure.savefig(tmp_path / "boxes.png")
    assert any("missing from font" in str(w.message) for w in control)
    # and with the house font list the same label draws cleanly
    with matplotlib.rc_context({"font.family": fonts.font_family("zh")}):
        with warnings.catch_warnings(record=True) as clean:
            warnings.simplefilter("always")
            figure = matplotlib.figure.Figure()
            figure.suptitle(label + "一级医院二级医院三级医院")
            figure.savefig(tmp_path / "glyphs.png")
    assert not [w for w in clean if "missing from font" in str(w.message)]


def test_a_missing_font_package_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "noto_cjk_sans_otc", None)
    with pytest.raises(fonts.FontMissing, match="noto-cjk-sans-otc"):
        fonts.cjk_font()


def test_the_report_is_self_contained_and_in_chinese(built):
    folder, _ = built
    page = html_of(folder)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    assert "<title>医保支付改革模拟简报</title>" in page
    for heading in ("要点", "图表与解读", "假设与参数", "与基线不同的参数", "运行记录"):
        assert heading in page
    # nothing to fetch: no stylesheet or script links, images are data URLs, fonts embedded
    assert "<link" not in page and "<script src" not in page
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "url(http" not in page and "@import" not in page
    images = re.findall(r'<img class="chart"[^>]*src="([^"]{0,30})', page)
    assert len(images) == len(CHARTS) + len(FINDINGS_CHARTS)
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert "@font-face" in page and "data:font/otf;base64," in page
    # the run record is collapsible and carries versions, revision, seeds, hashes
    assert "<details>" in page and "sha256" in page and "git_revision" in page


def test_headline_shows_the_numbers_of_comparison_json_with_intervals(built):
    # four numbers and each scheme's months of reserve (issue 10)
    folder, _ = built
    comparison = load_comparison(folder)
    page = html_of(folder)
    numbers = comparison.meta["headline"]["审计比例提高"]
    assert len(re.findall(r'class="card( noise)?( warn)?"', page)) == 6 * len(comparison.reforms)
    assert "居民医保基金累计结余可支付月数" in page and "职工医保基金累计结余可支付月数" in page
    resident = numbers["reserve_months_resident"]
    assert quantities("zh", "months", [resident["baseline"]], decimals=1)[0] in page
    # the share of cases coded up (issue 14), not the CMI gap, is on the card
    coded = numbers["upcoded_share"]
    shown = quantities("zh", "share_points_short", [coded["mean"], coded["p5"], coded["p95"]],
                       signed=True, scale=100.0, decimals=2)
    assert shown[0] in page
    assert coded["p95"] < 0 and numbers["upcoding_gap"]["p95"] < 0  # more audits, less of it
    for key in ("fund_balance", "annual_point_value", "upcoded_share",
                "basic_share_lower_levels"):
        assert text("zh", key) in page
    # a reading of the CMI chart says it in words, with the interval
    assert "审计比例提高后，2024年编码CMI与真实CMI之差缩小" in page


def test_readings_say_when_an_interval_includes_zero():
    clear = {"mean": -0.028, "p5": -0.031, "p95": -0.025}
    noisy = {"mean": 0.01, "p5": -0.02, "p95": 0.03}
    assert effect("zh", clear, "cmi", "wider", "narrower", decimals=3) == \
        "缩小0.028（区间−0.031至−0.025）"
    assert "与随机波动无法区分" in effect("zh", noisy, "cmi", "wider", "narrower", decimals=3)
    assert effect("en", clear, "cmi", "wider", "narrower", decimals=3) == \
        "narrows by 0.028 (5th–95th percentile −0.031 to −0.025)"
    assert "not distinguishable from noise" in effect("en", noisy, "cmi", "wider", "narrower")
    flat = {"mean": 0.0, "p5": 0.0, "p95": 0.0}
    assert effect("en", flat, "money", "more", "less") == "is unchanged"


def test_assumptions_list_region_years_replications_seed_and_differing_parameters(built):
    folder, _ = built
    page = visible_text(html_of(folder))
    assert "2023–2024" in page and "default.yaml" in page
    assert "audit.sample_rate" in page and "0.1" in page and "0.3" in page
    assert "method" in page and "point" in page and "rate" in page
    assert "抽查比例从10%提高到30%" in page


def test_scenarios_are_named_in_the_report_language(built):
    """Chinese titles (title_zh) in the Chinese report, the English titles in the English one."""
    zh = visible_text(html_of(built[0]))
    assert "总额预算下的点数法" in zh and "费率法（每权重固定价格）" in zh
    en = visible_text(re.sub(r"<details>.*?</details>", "", html_of(built[0], "en"),
                             flags=re.S))           # the run record holds both titles
    assert "Point method under a global budget" in en and "总额预算下的点数法" not in en


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_rebuilding_gives_the_same_bytes_and_one_language_never_overwrites_the_other(
        built, tmp_path):
    folder, _ = built
    copy = tmp_path / "again"
    shutil.copytree(folder, copy)
    before = digest(copy)
    written = build_briefing(copy, "zh", pdf=False)
    assert written.pages == [copy / "report.zh.html"] and written.notes == []
    assert digest(copy) == before
    english = (copy / "report.en.html").read_bytes()
    (copy / "report.en.html").write_text("the English report as it was", "utf-8")
    assert build_briefing(copy, "zh", pdf=False).pages == [copy / "report.zh.html"]
    assert (copy / "report.en.html").read_text("utf-8") == "the English report as it was"
    assert build_briefing(copy, "en", pdf=False).pages == [copy / "report.en.html"]
    assert (copy / "report.en.html").read_bytes() == english
    assert digest(copy) == before
    page = html_of(copy, "en")
    assert '<html lang="en">' in page and "<title>Payment reform briefing</title>" in page
    assert "Headline: 2023–2024 together and 2024 (the last year), against the baseline" in page
    assert "The last year (2024) at a glance" in page
    assert "After 审计比例提高, the gap between coded and true CMI in 2024 narrows by" in page
    words = html.unescape(visible_text(page))       # the findings' paragraph in English too
    assert "Over 2023–2024, under 审计比例提高 the fund's balance rises by" in words
    # the parts come largest first; with the calibrated (weaker) upcoding the budget's shift
    # between levels can outweigh the deductions kept, so the test asks for them among the parts
    assert "Why, from the model's own decomposition of the fund: " in words
    assert "audit deductions (kept by the fund) raise the balance by" in words
    assert "@font-face" in page                # the Chinese reform title still renders
    assert not [p for p in copy.rglob("*") if OWN_LEFTOVERS.fullmatch(p.name)]


def test_report_rebuilds_a_folder_of_an_earlier_version_and_keeps_its_report(
        built, tmp_path, capsys, monkeypatch):
    """A folder written before issue 14 has one report.html (in comparison.json's "lang") and
    a record listing it: `drgsim report DIR` writes both new reports beside it, leaves the old
    file as it was, says so, and lists the new files in the record so the folder stays drgsim's."""
    folder, _ = built
    old = tmp_path / "earlier"
    shutil.copytree(folder, old)
    for lang in LANGS:
        (old / f"report.{lang}.html").unlink()
    (old / "report.html").write_text("<html>an earlier report</html>", "utf-8")
    meta = json.loads((old / "comparison.json").read_text("utf-8"))
    meta.pop("languages", None)
    meta["lang"] = "en"
    (old / "comparison.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    record = json.loads((old / "run_record.json").read_text("utf-8"))
    record["outputs"] = sorted([n for n in record["outputs"] if not n.startswith("report")]
                               + ["report.html"])
    (old / "run_record.json").write_text(json.dumps(record), "utf-8")
    monkeypatch.setenv("DRGSIM_CHROMIUM", str(tmp_path / "no-browser"))
    assert main(["report", str(old)]) == 0
    out, err = capsys.readouterr()
    assert (old / "report.html").read_text("utf-8") == "<html>an earlier report</html>"
    assert html_of(old, "zh") == html_of(folder, "zh") and html_of(old, "en") == html_of(
        folder, "en")
    assert "report.html (one language, from an earlier drgsim) is left as it was" in err
    assert f"Rebuilt {old / 'report.zh.html'}" in out and "report.en.html" in out
    # no PDF without a browser: one line each, no traceback, the HTML written all the same
    assert err.count("report.zh.pdf skipped: DRGSIM_CHROMIUM=") == 1
    assert "Traceback" not in err and not (old / "report.zh.pdf").exists()
    listed = json.loads((old / "run_record.json").read_text("utf-8"))["outputs"]
    assert {"report.html", "report.zh.html", "report.en.html", "charts"} <= set(listed)
    check_output_folder(old)  # still a folder drgsim may write again


def test_draw_charts_refuses_an_unknown_language(built, tmp_path):
    folder, _ = built
    with pytest.raises(ValueError, match="not one of zh, en"):
        build_briefing(folder, "fr")
    with pytest.raises(ValueError, match="not one of zh, en"):
        draw_charts(load_comparison(folder), "fr", tmp_path)


def test_the_compare_command_writes_the_briefing_in_the_language_asked(tmp_path, capsys,
                                                                       monkeypatch):
    reform = tmp_path / "audit.yaml"
    reform.write_text(AUDIT_REFORM, "utf-8")
    out = tmp_path / "out"
    monkeypatch.setenv("DRGSIM_CHROMIUM", "")
    assert main(["compare", "--reform", str(reform), "--replications", "2", "--years", "1",
                 "--scale", "0.02", "--lang", "en", "--out", str(out)]) == 0
    assert '<html lang="en">' in html_of(out, "en")
    assert not (out / "report.zh.html").exists() and not (out / "charts" / "zh").exists()
    assert (out / "charts" / "en" / "cmi.png").is_file()
    printed = capsys.readouterr()
    assert f"report: {out / 'report.en.html'}" in printed.out
    said = [line for line in printed.err.splitlines() if line.startswith("drgsim")]
    assert said == [  # one line, no traceback; the progress bar aside
        "drgsim: warning: report.en.pdf skipped: DRGSIM_CHROMIUM='' is not an executable file"]
    assert "Traceback" not in printed.err and not (out / "report.en.pdf").exists()


def chromium(*arguments: str, profile: Path) -> subprocess.CompletedProcess:
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
               *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium (/usr/bin/chromium, Debian "
                    "package chromium) is not installed")
def test_the_report_opens_in_headless_chromium_with_charts_and_text(built, tmp_path):
    folder, _ = built
    url = (folder / "report.zh.html").resolve().as_uri()
    dom = chromium("--dump-dom", url, profile=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)
    assert body, dom.stdout[:500]
    loaded = re.search(r'data-charts-loaded="(\d+)"', body.group(1))
    total = re.search(r'data-charts-total="(\d+)"', body.group(1))
    assert loaded and total, "the inline script did not run"
    drawn = len(CHARTS) + len(FINDINGS_CHARTS)
    assert int(total.group(1)) == drawn and int(loaded.group(1)) == drawn
    words = visible_text(dom.stdout)
    assert "医保支付改革模拟简报" in words and len(words) > 1000

    screenshot = tmp_path / "report.png"
    shot = chromium(f"--screenshot={screenshot}", "--window-size=1280,2400", url,
                    profile=tmp_path / "profile")
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    with Image.open(screenshot) as image:
        pixels = image.convert("RGB")
        assert pixels.size == (1280, 2400)
        colours = pixels.getcolors(1 << 22)
        non_white = sum(count for count, rgb in colours if min(rgb) < 245)
        assert len(colours) > 200                              # text, cards and charts
        assert non_white / (1280 * 2400) > 0.05
        chart_blue = sum(count for count, rgb in colours
                         if abs(rgb[0] - 0x3a) < 30 and abs(rgb[1] - 0x7c) < 30
                         and abs(rgb[2] - 0xa5) < 30)
        assert chart_blue > 500                                # the house colours are drawn


def many_reforms(stored: Path, folder: Path, count: int = 12) -> Path:
    """The stored comparison with its first reform copied ``count`` times (the copies' effects
    scaled 1×, 2×, … so that they rank), as a comparison of many reforms would be stored."""
    shutil.copytree(stored, folder)
    meta = json.loads((folder / "comparison.json").read_text("utf-8"))
    source = meta["scenarios"][1]
    labels = [f"reform_{index:02d}" for index in range(1, count + 1)]
    meta["scenarios"] = [meta["scenarios"][0]] + [
        {**source, "label": label, "title": label, "title_zh": None} for label in labels]
    (folder / "comparison.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    tables = [*(folder / f"{name}.parquet" for name in ("comparison_yearly",
              "comparison_by_level", "comparison_by_hospital", "comparison_pressure")),
              *(folder / "replications").glob("*.parquet")]
    for path in tables:
        table = pd.read_parquet(path)
        base = table[table["scenario"] == meta["baseline"]]
        copies = []
        for index, label in enumerate(labels, start=1):
            copy = table[table["scenario"] == source["label"]].copy()
            copy["scenario"] = label
            for column in [c for c in copy.columns if c.startswith("difference_")]:
                copy[column] = copy[column] * index
            copies.append(copy)
        pd.concat([base, *copies], ignore_index=True).to_parquet(path, index=False)
    return folder


def test_charts_of_twelve_reforms_stay_readable(stored, tmp_path):
    """Issue 11, part 6: twelve reforms made a 4,488-px row of margin panels; now every chart
    is a grid of small multiples or the reforms with the largest effect, with a note."""
    folder = many_reforms(stored, tmp_path / "many")
    comparison = load_comparison(folder)
    assert len(comparison.reforms) == 12
    charts = draw_charts(comparison, "en", tmp_path / "charts")
    for chart in charts:
        width, height = Image.open(chart.png).size
        assert width <= 1400 and height <= 1400, (chart.name, width, height)
    margins = {chart.name: chart for chart in charts}["hospital_margins"]
    assert set(pd.read_csv(margins.csv)["scenario"]) == set(comparison.reforms)  # all in CSV
    admissions = {chart.name: chart for chart in charts}["admissions_by_level"]
    assert "largest effect" in admissions.title
    from sim.report.compare_charts import MAX_BARS, ranked

    sizes = pd.Series({label: float(index) for index, label in
                       enumerate(comparison.reforms, start=1)})
    assert ranked(comparison.reforms, sizes, MAX_BARS) == comparison.reforms[-MAX_BARS:]


def pdf_pages(path: Path) -> list[tuple[Image.Image, str]]:
    """Each page of a PDF rendered to an image (pypdfium2, the test extra), with its text."""
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 (the test extra) renders the "
                                 "PDF's pages: pip install -e '.[test]'")
    document = pdfium.PdfDocument(str(path))
    try:
        return [(page.render(scale=1.0).to_pil().convert("RGB"),
                 page.get_textpage().get_text_range()) for page in document]
    finally:
        document.close()


def check_pdf(path: Path, lang: str, first_reform: str | None = None
              ) -> list[tuple[Image.Image, str]]:
    pages = pdf_pages(path)
    if first_reform is not None:  # the first page reads as a briefing, not a heading alone
        first_page = "".join(pages[0][1].split())
        assert "".join(first_reform.split()) in first_page
        assert ("区间" if lang == "zh" else "percentile") in first_page
    assert len(pages) >= 3, len(pages)                 # headline, charts, parameters, record
    for number, (image, words) in enumerate(pages, start=1):
        width, height = image.size
        assert abs(width / height - 210 / 297) < 0.01  # A4
        colours = image.getcolors(1 << 22)
        inked = sum(count for count, rgb in colours if min(rgb) < 200)
        assert inked / (width * height) > 0.004, f"page {number} is blank"
        assert words.strip(), f"page {number} has no text"
    everything = "".join(words for _, words in pages)
    chinese = len(re.findall(r"[\u4e00-\u9fff]", everything))
    if lang == "zh":
        assert chinese > 300 and "医保支付改革模拟简报" in pages[0][1]
        assert "要点" in pages[0][1] and "与基线不同的参数" in everything
    else:
        assert "Payment reform briefing" in pages[0][1] and "审计比例提高" in everything
    charts = [image for image, _ in pages
              if sum(count for count, rgb in image.getcolors(1 << 22)
                     if abs(rgb[0] - 0x3a) < 30 and abs(rgb[1] - 0x7c) < 30
                     and abs(rgb[2] - 0xa5) < 30) > 500]
    assert len(charts) >= 3                            # the charts are printed, in colour
    return pages


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium (/usr/bin/chromium, Debian "
                    "package chromium) is not installed; .ci/run installs it")
def test_the_chinese_report_prints_to_a_pdf_with_chinese_text_on_every_page(built, tmp_path):
    """The briefing's page as built, printed as write_reports prints it (a few seconds; the whole
    command with both languages: test_report_prints_both_languages_to_pdf, slow)."""
    from sim.report.pdf import print_pdf

    print_pdf(html_of(built[0], "zh"), tmp_path / "report.zh.pdf")
    comparison = load_comparison(built[0])
    pages = check_pdf(tmp_path / "report.zh.pdf", "zh",
                      comparison.name(comparison.reforms[0], "zh"))
    pages[0][0].save(tmp_path / "report.zh.page1.png")


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium (/usr/bin/chromium, Debian "
                    "package chromium) is not installed; .ci/run installs it")
def test_report_prints_both_languages_to_pdf(built, tmp_path, capsys):
    folder = tmp_path / "both"
    shutil.copytree(built[0], folder)
    assert main(["report", str(folder)]) == 0
    assert capsys.readouterr().err == ""
    for lang in LANGS:
        check_pdf(folder / f"report.{lang}.pdf", lang)


ABBREVIATIONS = {"CMI", "MDC", "DRG", "DIP", "ADRG", "CSV", "PDF", "SHA", "docs"}


def latin_words(page: str) -> set[str]:
    """Words in Latin letters a reader sees outside the run record and parameter paths, other
    than abbreviations and file names."""
    page = re.sub(r"<(script|style|pre|code)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'<section id="record">.*?</section>|<img[^>]*>', " ", page, flags=re.S)
    seen = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return {word for word in re.findall(r"[A-Za-z][A-Za-z0-9_.]{2,}", seen)
            if word not in ABBREVIATIONS and not re.search(r"[._\d]", word)}


def test_the_chinese_report_is_chinese_throughout(built):
    """Titles, parameter names and units, method names, rationale: no English words (issue 14:
    the Chinese report showed an English reform title and raw JSON); values are not JSON."""
    assert latin_words(html_of(built[0], "zh")) == set()
    assert {"Headline", "baseline", "Parameter"} <= latin_words(html_of(built[0], "en"))
    page = html_of(built[0], "zh")
    assert "病案抽查比例（占病案的比例）" in page and "总额预算点数法" in page
    table = re.search(r'<h3>与基线不同的参数</h3>(.*?)</table>', page, flags=re.S).group(1)
    assert not re.search(r"[{}\[\]]|&quot;", table)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium (/usr/bin/chromium, Debian "
                    "package chromium) is not installed; .ci/run installs it")
def test_an_english_page_prints_its_chinese_words_too(tmp_path):
    """In English the embedded CJK font is a fallback, fetched only when a Chinese word is laid
    out: Chromium printed before it had loaded (the words came out as boxes or not at all) until
    the print waited for the page's fonts."""
    from sim.report.briefing import page_html
    from sim.report.pdf import print_pdf

    page = page_html("en", "fallback", "<h1>Payment reform briefing</h1>"
                                       "<p>After 审计比例提高, the gap narrows.</p>")
    print_pdf(page, tmp_path / "en.pdf")
    [(image, words)] = pdf_pages(tmp_path / "en.pdf")
    assert "After 审计比例提高, the gap narrows." in words.replace("\r\n", "\n")


def test_the_fund_waterfall_adds_up_to_the_cent_with_the_tables_the_comparison_writes(built):
    """Issue 14, item 3: from the baseline's balance to the reform's, part by part, the parts
    adding up exactly; checked against comparison_yearly (the summary compare writes), not
    against the waterfall's own total."""
    folder, _ = built
    steps = pd.read_csv(folder / "fund_waterfall.csv")
    yearly = pd.read_parquet(folder / "comparison_yearly.parquet")
    yearly = yearly[yearly["variable"] == "fund_balance"]
    last = int(yearly["year"].max())
    assert set(steps["scenario"]) == set(load_comparison(folder).reforms)
    assert "unexplained" not in set(steps["part"])         # every yuan has its part
    for (reform, period), mine in steps.groupby(["scenario", "period"]):
        mine = mine.sort_values("order")
        start, end = mine["mean"].iloc[0], mine["mean"].iloc[-1]
        parts = mine[mine["kind"] == "part"]
        # to the cent: rounding both sides to cents would fail on a half-cent boundary even
        # when they differ by 1e-9 of a yuan (it did after the speed merge: …26.02 vs …26.03)
        assert abs(start + parts["mean"].sum() - end) < 0.005, (reform, period)
        assert parts["after"].iloc[-1] == pytest.approx(end, abs=0.005)
        summary = yearly[yearly["scenario"] == reform]
        if period == "final_year":
            summary = summary[summary["year"] == last]
        assert parts["mean"].sum() == pytest.approx(summary["difference_mean"].sum(), abs=0.01)
        assert start == pytest.approx(summary["baseline_mean"].sum(), abs=0.01)
    # the audit reform: the deductions the fund keeps raise its balance, beyond noise
    audit = steps[(steps["scenario"] == "审计比例提高") & (steps["part"] == "audit_deductions")]
    assert (audit["p5"] > 0).all()


def test_the_headline_has_the_whole_period_and_a_paragraph_from_the_numbers(built):
    folder, _ = built
    head = pd.read_csv(folder / "findings_headline.csv")
    yearly = pd.read_parquet(folder / "comparison_yearly.parquet")
    reform = "审计比例提高"
    mine = head[(head["scenario"] == reform)].set_index(["period", "measure"])
    # the whole period's balance is the sum of the years' paired differences
    balance = yearly[(yearly["scenario"] == reform) & (yearly["variable"] == "fund_balance")]
    whole = mine.loc[("cumulative", "fund_balance")]
    assert whole["mean"] == pytest.approx(balance["difference_mean"].sum(), abs=0.01)
    page = visible_text(html_of(folder))
    assert "要点：2023–2024年累计与2024年（最后一年），与基线相比" in page
    assert quantities("zh", "money", [whole["mean"]], signed=True)[0] in page
    coded = mine.loc[("cumulative", "upcoded_share")]
    assert quantities("zh", "share_points", [coded["mean"]], signed=True, scale=100.0,
                      decimals=2)[0] in page
    for label in ("职工医保基金结余", "居民医保基金结余", "为高编码支付的金额",
                  "医院收支结余：与按项目付费相比得益/受损/无法区分（家）",
                  "各级别与所有制医院的收支结余变化（2023–2024年累计）"):
        assert label in page
    # the paragraph names the waterfall's largest part with its amount
    steps = pd.read_csv(folder / "fund_waterfall.csv")
    parts = steps[(steps["scenario"] == reform) & (steps["period"] == "cumulative")
                  & (steps["kind"] == "part")]
    largest = parts.loc[parts["mean"].abs().idxmax()]
    direction = text("zh", "para.why.raises" if largest["mean"] > 0 else "para.why.lowers")
    assert (f"{text('zh', 'part.' + largest['part'])}使结余{direction}"
            f"{quantities('zh', 'money', [abs(largest['mean'])])[0]}") in page
    # grey where the interval includes zero: one cell per noisy figure
    noisy = int(head[(head["scenario"] == reform) & head["measure"].isin(
        ["fund_balance", "fund_balance_employee", "fund_balance_resident", "reserve_months",
         "reserve_months_employee", "reserve_months_resident", "upcoded_share",
         "upcoding_paid", "audit_deducted_value", "basic_share_lower_levels"])]["noise"].sum())
    table = html_of(folder).split(f"<h3>{reform}</h3>")[1].split("</table>")[0]
    assert table.count('<td class="noise">') == noisy


def test_the_hospital_ranking_stays_readable_for_a_thousand_hospitals(built, tmp_path):
    """Issue 14, item 4: the 15 largest gains and losses with the rest in one line, whatever the
    number of hospitals; every hospital in the CSV twin."""
    import numpy as np

    from sim.report.findings_charts import EACH_END, hospital_ranking
    from sim.report.findings_page import Findings

    comparison = load_comparison(built[0])
    findings = comparison.findings
    rng = np.random.default_rng(1)
    rows = []
    for reform in comparison.reforms:
        means = rng.normal(0, 1e5, 1000)
        for index, mean in enumerate(means):
            rows.append({"scenario": reform, "period": "cumulative", "against": "baseline",
                         "hospital_id": f"H{index:04d}", "level": ("primary", "secondary",
                                                                     "tertiary")[index % 3],
                         "ownership": ("public", "private", "mixed")[index % 3 // 2],
                         "mean": mean, "p5": mean - 3e4, "p95": mean + 3e4,
                         "noise": abs(mean) < 3e4, "verdict": "unclear"})
    many = pd.DataFrame(rows)
    many["rank"] = many.groupby("scenario")["mean"].rank(ascending=False, method="first")
    comparison.findings = Findings(findings.headline, many, findings.groups, findings.waterfall)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chart = hospital_ranking(comparison, "en", tmp_path)
    width, height = Image.open(chart.png).size
    assert width <= 1400 and height <= 1400, (width, height)
    assert len(pd.read_csv(chart.csv)) == 1000 * len(comparison.reforms)
    # the drawn labels: the largest gains and losses, not the middle
    from sim.report.findings_charts import ranking_rows

    drawn, rest = ranking_rows(many[many["scenario"] == comparison.reforms[0]])
    assert len(drawn) == 2 * EACH_END and len(rest) == 1000 - 2 * EACH_END
    assert drawn["mean"].iloc[0] == many[many["scenario"] == comparison.reforms[0]]["mean"].max()

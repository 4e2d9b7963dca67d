"""The briefing of a comparison, in Chinese and English side by side: ``report.zh.html`` and
``report.en.html`` (self-contained pages) and their PDFs ``report.zh.pdf``, ``report.en.pdf``
(printed by headless Chromium, :mod:`sim.report.pdf`), with a headline of four numbers per reform
and their 5th–95th percentile intervals, every chart (embedded as base64 PNG, drawn into
``charts/zh`` and ``charts/en``) with a plain-language reading generated from the numbers, the
assumptions and the parameters that differ (named in the report's language,
:mod:`sim.report.parameter_labels`), and the run record. Built from stored files only, so
``drgsim report DIR`` rebuilds it without re-running; the same folder gives the same HTML bytes
(a PDF carries the time it was printed). The page needs no network: styles and script are inline
and the Chinese glyphs it uses are embedded as a font subset. :func:`write_reports` is the one
way a report is written — the comparison's here and a single run's (:mod:`sim.report.run_report`).
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import math
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.experiments.compare import headline as compute_headline
from sim.report import findings_page
from sim.report.compare_charts import (
    CHARTS,
    Chart,
    Comparison,
    draw_charts,
    load_comparison,
    paired_band,
)
from sim.report.findings_charts import draw_findings_charts
from sim.report.fonts import CJK_FAMILY, inline_font_face
from sim.report.labels import LANGS, LEVELS, check_lang, level_name, number, quantities, text
from sim.report.parameter_labels import (
    method_name,
    parameter_label,
    parameter_unit,
    show_parameter,
)
from sim.report.pdf import PdfPrint, PdfSkipped, start_pdf
from sim.store import RECORD

HEADLINE = (("fund_balance", "money", 1.0, None), ("annual_point_value", "point", 1.0, None),
            ("upcoded_share", "share_points_short", 100.0, 2),  # issue 14: not the CMI gap
            ("basic_share_lower_levels", "share_points_short", 100.0, None),
            # each scheme's fund as it is (§2.1; issue 10)
            ("reserve_months_employee", "months", 1.0, 1),
            ("reserve_months_resident", "months", 1.0, 1))
LEVELS_TOP_DOWN = tuple(reversed(LEVELS))


REPORT, PDF = "report.{lang}.html", "report.{lang}.pdf"
EARLIER_REPORT = "report.html"  # one language, written by drgsim before issue 14


@dataclass
class Written:
    """What :func:`write_reports` wrote, and one line for each PDF it could not print."""

    pages: list[Path] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def languages(lang: str | Sequence[str] | None) -> list[str]:
    """``None``: both languages; a language or a list of them, checked."""
    if lang is None:
        return list(LANGS)
    chosen = [lang] if isinstance(lang, str) else list(lang)
    return [check_lang(each) for each in chosen]


def build_briefing(folder: Path, lang: str | Sequence[str] | None = None,
                   pdf: bool = True) -> Written:
    """Draw the charts and write ``report.<lang>.html`` (and, with ``pdf``, ``.pdf``) for each
    language (default both) of a comparison folder."""
    langs = languages(lang)
    comparison = load_comparison(Path(folder))
    written = write_reports(
        Path(folder), langs,
        lambda each, where: (draw_charts(comparison, each, where)
                             + draw_findings_charts(comparison, each, where)),
        lambda each, charts: render_page(comparison, each, charts), pdf)
    tables = findings_page.write_tables(comparison.findings, folder)
    record_outputs(Path(folder), [path.name for path in tables])
    return written


def write_reports(folder: Path, langs: list[str],
                  draw: Callable[[str, Path], list], render: Callable[[str, list], str],
                  pdf: bool = True) -> Written:
    """For each language: its charts into ``charts/<lang>`` (``draw(lang, folder)``), its page
    (``render(lang, charts)``) into ``report.<lang>.html`` and, with ``pdf``, printed to
    ``report.<lang>.pdf`` (by Chromium in its own processes, started as soon as the page is
    written and waited for after the last language, so that a print overlaps the drawing of
    the next language). Everything is staged under temporary names first and renamed into
    place only when every language is done; on any failure (Ctrl-C included) the temporary files
    are removed, any print under way is ended and the folder is as it was. Only the languages
    asked for are touched: the other language's report and charts stay as they are. A PDF that
    cannot be printed (no Chromium) leaves a note instead; the HTML is written all the same."""
    for lang in langs:
        check_lang(lang)
    pid = os.getpid()
    written = Written()
    charts_root = folder / "charts"
    charts_root_new = not charts_root.exists()  # made by this build: removed again on failure
    staged: list[tuple[Path, Path]] = []  # (temporary, final), renamed in this order
    prints: list[tuple[PdfPrint, Path, Path]] = []  # started, finished after the last page
    try:
        for lang in langs:
            charts_final = folder / "charts" / lang
            charts_staged = folder / "charts" / f"{lang}.partial-{pid}"
            shutil.rmtree(charts_staged, ignore_errors=True)
            staged.append((charts_staged, charts_final))
            page = render(lang, draw(lang, charts_staged))
            page_final = folder / REPORT.format(lang=lang)
            page_staged = folder / f"{page_final.name}.partial-{pid}"
            staged.append((page_staged, page_final))
            page_staged.write_text(page, encoding="utf-8", newline="\n")
            written.pages.append(page_final)
            if pdf:
                pdf_final = folder / PDF.format(lang=lang)
                pdf_staged = folder / f"{pdf_final.name}.partial-{pid}"
                staged.append((pdf_staged, pdf_final))
                try:  # Chromium prints while the next language is drawn (issue 13)
                    prints.append((start_pdf(page, pdf_staged), pdf_staged, pdf_final))
                except PdfSkipped as reason:
                    skipped(reason, pdf_staged, pdf_final, staged, written)
        while prints:
            job, pdf_staged, pdf_final = prints[0]
            try:
                job.finish()
            except PdfSkipped as reason:
                skipped(reason, pdf_staged, pdf_final, staged, written)
            else:
                written.pdfs.append(pdf_final)
            prints.pop(0)
        for temporary, final in staged:
            if temporary.is_dir():
                old = final.with_name(f"{final.name}.old-{pid}")
                if final.exists():
                    final.rename(old)
                temporary.rename(final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(temporary, final)
    except BaseException:
        for job, _, _ in prints:
            job.cancel()
        for temporary, _ in staged:
            if temporary.is_dir():
                shutil.rmtree(temporary, ignore_errors=True)
            else:
                temporary.unlink(missing_ok=True)
        if charts_root_new:
            with contextlib.suppress(OSError):  # only if empty: nothing but this build's
                charts_root.rmdir()
        raise
    if (folder / EARLIER_REPORT).is_file():
        names = ", ".join(page.name for page in written.pages)
        written.notes.append(f"{EARLIER_REPORT} (one language, from an earlier drgsim) is left "
                             f"as it was; the reports are now {names}")
    record_outputs(folder, ["charts", *(p.name for p in written.pages + written.pdfs)])
    return written


def skipped(reason: PdfSkipped, pdf_staged: Path, pdf_final: Path,
            staged: list[tuple[Path, Path]], written: Written) -> None:
    """A PDF that could not be printed: not renamed into place, and a note saying why."""
    staged.remove((pdf_staged, pdf_final))
    stale = (f"; {pdf_final.name} there is from an earlier build"
             if pdf_final.exists() else "")
    written.notes.append(f"{pdf_final.name} skipped: {reason}{stale}")


def record_outputs(folder: Path, names: list[str]) -> None:
    """Add ``names`` to the run record's list of what drgsim wrote in the folder (so that the
    folder is still recognised as drgsim's own, :func:`sim.store.check_output_folder`)."""
    path = folder / RECORD
    if not path.is_file():
        return
    record = json.loads(path.read_text("utf-8"))
    listed = record.get("outputs")
    if not isinstance(listed, list) or set(names) <= set(listed):
        return
    record["outputs"] = sorted(set(listed) | set(names))
    partial = folder / f"{RECORD}.partial-{os.getpid()}"
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(record, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


# ---- numbers and sentences ----------------------------------------------------------------

def is_noise(stat: dict) -> bool:
    """The interval includes zero (but is not a flat zero)."""
    return stat["p5"] <= 0 <= stat["p95"] and not (stat["p5"] == stat["p95"] == 0)


def is_missing(stat: dict | None) -> bool:
    return stat is None or any(not math.isfinite(stat[k]) for k in ("mean", "p5", "p95"))


def effect(lang: str, stat: dict, kind: str, up: str, down: str, scale: float = 1.0,
           decimals: int | None = None) -> str:
    """"falls by 0.029 (5th–95th percentile −0.031 to −0.027)", with the noise caveat when the
    interval includes zero, or "is unchanged"."""
    if is_missing(stat):
        return "–"
    if stat["mean"] == stat["p5"] == stat["p95"] == 0:
        return text(lang, "unchanged")
    numbers = [abs(stat["mean"]), stat["p5"], stat["p95"]]
    parts = {"direction": text(lang, up if stat["mean"] >= 0 else down),
             "amount": quantities(lang, kind, numbers, scale=scale, decimals=decimals)[0],
             "interval": interval(lang, kind, numbers, scale, decimals),
             "noise": text(lang, "noise")}
    return text(lang, "effect_noise" if is_noise(stat) else "effect", **parts)


def interval(lang: str, kind: str, values: list[float], scale: float,
             decimals: int | None) -> str:
    """The 5th–95th percentile range of (value, p5, p95), in the unit of all three."""
    _, low, high = quantities(lang, kind, values, signed=True, scale=scale, decimals=decimals,
                              suffix_last_only=True)
    return text(lang, "interval_text", low=low, high=high)


def sentence(lang: str, clauses: list[str]) -> str:
    clauses = [c for c in clauses if c]
    return text(lang, "clause_sep").join(clauses) + text(lang, "sentence_end")


def summary_stat(table: pd.DataFrame, scenario: str, variable: str, year: int,
                 **keys: str) -> dict | None:
    """Difference (mean, p5, p95) and the baseline mean from a comparison_* summary."""
    mask = ((table["scenario"] == scenario) & (table["variable"] == variable)
            & (table["year"] == year))
    for key, value in keys.items():
        mask &= table[key] == value
    rows = table[mask]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return {"mean": float(row["difference_mean"]), "p5": float(row["difference_p5"]),
            "p95": float(row["difference_p95"]), "baseline": float(row["baseline_mean"])}


def headline_numbers(comparison: Comparison) -> dict[str, dict]:
    """The stored headline of comparison.json, or the same computed from the summaries."""
    stored = comparison.meta.get("headline") or {}
    return {label: {**compute_headline(comparison.summaries, comparison.meta, label),
                    **(stored.get(label) or {})}
            for label in comparison.reforms}


def readings(comparison: Comparison, lang: str) -> dict[str, list[str]]:
    """Plain-language sentences for every chart, from the stored numbers."""
    year = comparison.last_year
    yearly = comparison.summaries["comparison_yearly"]
    by_level = comparison.summaries["comparison_by_level"]
    pressure = comparison.summaries["comparison_pressure"]
    heads = headline_numbers(comparison)
    out: dict[str, list[str]] = {name: [] for name in CHARTS}
    reforms = comparison.reforms

    def stat(reform: str, variable: str) -> dict | None:
        return summary_stat(yearly, reform, variable, year)

    if reforms:
        first = reforms[0]
        balance, reserve = stat(first, "fund_balance"), stat(first, "reserve_months")
        if not is_missing(balance) and not is_missing(reserve):
            out["fund_balance"].append(sentence(lang, [text(
                lang, "reading.fund_balance.base", year=year,
                balance=quantities(lang, "money", [balance["baseline"]])[0],
                reserve=reserve["baseline"])]))
        point = stat(first, "annual_point_value")
        if point is not None and math.isfinite(point["baseline"]):
            out["point_value"].append(sentence(lang, [text(
                lang, "reading.point_value.base", year=year,
                value=quantities(lang, "point", [point["baseline"]])[0])]))
        gap = stat(first, "upcoding_gap")
        if gap is not None:
            out["cmi"].append(sentence(lang, [text(lang, "reading.cmi.base", year=year,
                                                   value=gap["baseline"])]))
    hospitals = hospital_level_means(comparison)
    for reform in reforms:
        head = heads[reform]
        name = comparison.name(reform, lang)
        out["fund_balance"].append(sentence(lang, [text(
            lang, "reading.fund_balance", reform=name, year=year,
            balance=effect(lang, head["fund_balance"], "money", "more", "less"),
            reserve=effect(lang, stat(reform, "reserve_months"), "months", "more", "less"))]))
        point = head["annual_point_value"]
        out["point_value"].append(sentence(lang, [
            text(lang, "reading.point_value.none", reform=name) if is_missing(point) else
            text(lang, "reading.point_value", reform=name, year=year,
                 effect=effect(lang, point, "point", "higher", "lower"))]))
        out["cmi"].append(sentence(lang, [text(
            lang, "reading.cmi", reform=name, year=year,
            effect=effect(lang, head["upcoding_gap"], "cmi", "wider", "narrower", decimals=3))]))
        out["upcoding_pressure"].append(pressure_reading(lang, reform, name, year, by_level,
                                                         pressure))
        levels = [text(lang, "reading.admissions_by_level.level",
                       level=level_name(lang, level),
                       effect=effect(lang, summary_stat(by_level, reform, "admissions", year,
                                                        level=level),
                                     "admissions", "more", "less"))
                  for level in LEVELS]
        out["admissions_by_level"].append(sentence(lang, [text(
            lang, "reading.admissions_by_level", reform=name, year=year,
            effect=effect(lang, head["basic_share_lower_levels"], "share_points", "higher",
                          "lower", scale=100.0)), *levels]))
        out["hospital_margins"].append(margins_reading(comparison, lang, reform, hospitals))
        out["readmissions_los"].append(sentence(lang, [text(
            lang, "reading.readmissions_los", reform=name, year=year,
            readmission=effect(lang, stat(reform, "readmission_15d_rate"), "share_points",
                               "higher", "lower", scale=100.0),
            los=effect(lang, stat(reform, "mean_los"), "days", "longer", "shorter"))]))
    out.update(findings_page.chart_readings(comparison, lang))
    return out


def pressure_reading(lang: str, reform: str, name: str, year: int, by_level: pd.DataFrame,
                     pressure: pd.DataFrame) -> str:
    levels = [text(lang, "reading.upcoding_pressure.level", level=level_name(lang, level),
                   effect=effect(lang, stat, "yuan_per_case", "higher", "lower"))
              for level in LEVELS_TOP_DOWN
              if not is_missing(stat := summary_stat(by_level, reform, "upcoding_pressure", year,
                                                     level=level))]
    clauses = [text(lang, "reading.upcoding_pressure", reform=name, year=year,
                    levels=text(lang, "list_sep").join(levels))] if levels else []
    cells = pressure[(pressure["scenario"] == reform) & (pressure["year"] == year)
                     & (pressure["variable"] == "upcoding_pressure")].dropna(
        subset=["difference_mean"])
    if not cells.empty:
        largest = cells.loc[cells["difference_mean"].abs().idxmax()]
        clauses.append(text(lang, "reading.upcoding_pressure.max",
                            level=level_name(lang, str(largest["level"])),
                            mdc=str(largest["mdc"]),
                            amount=quantities(lang, "yuan_per_case",
                                              [float(largest["difference_mean"])],
                                              signed=True)[0]))
    return sentence(lang, clauses)


def hospital_level_means(comparison: Comparison) -> pd.DataFrame:
    """Mean per-hospital change in margin by level, paired by replication, with its band."""
    table = comparison.raw["hospital_yearly"]
    last = table[table["year"] == comparison.last_year]
    means = last.groupby(["scenario", "replication", "level"], as_index=False)["margin"].mean()
    return paired_band(comparison, means, ["level"], "margin")


def margins_reading(comparison: Comparison, lang: str, reform: str,
                    level_means: pd.DataFrame) -> str:
    year = comparison.last_year
    table = comparison.summaries["comparison_by_hospital"]
    rows = table[(table["scenario"] == reform) & (table["variable"] == "margin")
                 & (table["year"] == year)]
    winners = int((rows["difference_p5"] > 0).sum())
    losers = int((rows["difference_p95"] < 0).sum())
    clauses = [text(lang, "reading.hospital_margins", reform=comparison.name(reform, lang),
                    year=year, total=len(rows),
                    winners=winners, losers=losers, rest=len(rows) - winners - losers)]
    mine = level_means[level_means["scenario"] == reform].set_index("level")
    levels = [text(lang, "reading.hospital_margins.level", level=level_name(lang, level),
                   effect=effect(lang, mine.loc[level, ["mean", "p5", "p95"]].to_dict(),
                                 "money", "more", "less"))
              for level in LEVELS_TOP_DOWN if level in mine.index]
    if levels:
        clauses.append(text(lang, "list_sep").join(levels))
    return sentence(lang, clauses)


# ---- the page -------------------------------------------------------------------------------

def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def show_value(value: object) -> str:
    """A value of the run's facts (scale, seed) as written."""
    if isinstance(value, float):
        return f"{value:g}"
    return "–" if value is None else str(value)


def year_span(years: list[int]) -> str:
    """2023–2025, 2027 from a sorted list of years."""
    spans, start = [], None
    for index, year in enumerate(years):
        if start is None:
            start = year
        if index + 1 == len(years) or years[index + 1] != year + 1:
            spans.append(str(start) if start == year else f"{start}–{year}")
            start = None
    return ", ".join(spans)


def differing_rows(meta: dict, lang: str) -> list[tuple[str, str, str, str, str]]:
    """(scenario, parameter, years, baseline, reform) with runs of equal years merged; values
    shown in words (:func:`sim.report.parameter_labels.show_parameter`)."""
    groups: dict[tuple, list[int]] = {}
    for row in meta.get("differing_parameters", []):
        key = (row["scenario"], row["parameter"],
               show_parameter(lang, row["baseline"], row["parameter"]),
               show_parameter(lang, row["reform"], row["parameter"]))
        groups.setdefault(key, []).append(int(row["year"]))
    return [(scenario, parameter, year_span(sorted(years)), base, reform)
            for (scenario, parameter, base, reform), years in groups.items()]


def parameter_cell(lang: str, path: str) -> str:
    """A parameter's name and unit in ``lang``, its path below in small type (to find it in
    ``drgsim params`` and in policy files)."""
    unit = parameter_unit(lang, path)
    shown = parameter_label(lang, path) + (text(lang, "unit_in_brackets", unit=unit) if unit
                                           else "")
    return f'{escape(shown)}<br><code class="path">{escape(path)}</code>'


def table_html(header: list[str] | None, rows: list[list[str]], css: str = "") -> str:
    head = ("<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header)
            + "</tr></thead>") if header else ""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f'<table class="{css}">{head}<tbody>{body}</tbody></table>'


def headline_html(comparison: Comparison, lang: str) -> str:
    heads = headline_numbers(comparison)
    year = comparison.last_year
    parts = [findings_page.heading_html(comparison, lang)]
    for reform in comparison.reforms:
        cards = []
        for key, kind, scale, decimals in HEADLINE:
            stat = heads[reform].get(key)
            if is_missing(stat):
                value, shown_interval, base, noise = "–", "", "", False
                if key == "annual_point_value":
                    shown_interval = text(lang, "point_value.not_point")
            else:
                values = [stat["mean"], stat["p5"], stat["p95"]]
                value = quantities(lang, kind, values, signed=True, scale=scale,
                                   decimals=decimals)[0]
                shown_interval = interval(lang, kind, values, scale, decimals)
                base = text(lang, "baseline_value",
                            value=baseline_shown(lang, key, stat["baseline"]))
                noise = is_noise(stat)
            caveat = f'<div class="caveat">{escape(text(lang, "noise"))}</div>' if noise else ""
            alert = reserve_alert(comparison, reform, key, lang)
            if alert is not None:  # a scheme's reserve under the threshold: a flagged card
                caveat += f'<div class="alert">{escape(alert)}</div>'
            flag = " noise" if noise else ""
            flag += " warn" if alert is not None else ""
            cards.append(
                f'<div class="card{flag}">'
                f'<div class="metric">{escape(text(lang, key))}</div>'
                f'<div class="value">{escape(value)}</div>'
                f'<div class="interval">{escape(shown_interval)}</div>{caveat}'
                f'<div class="base">{escape(base)}</div></div>')
        parts.append(f'<div class="reform"><h3>{escape(comparison.name(reform, lang))}</h3>'
                     f'{findings_page.reform_html(comparison, comparison.findings, lang, reform)}'
                     f"<h4>{escape(text(lang, 'headline_cards', year=year))}</h4>"
                     f'<div class="cards">{"".join(cards)}</div></div>')
    return f'<section id="headline">{"".join(parts)}</section>'


def reserve_alert(comparison: Comparison, reform: str, key: str, lang: str) -> str | None:
    """For a scheme's reserve card: a line when that scheme's months of reserve fall under the
    threshold (or run out) under the reform or the baseline (``comparison.json``
    ``reserve_alerts``), else None."""
    if not key.startswith("reserve_months_"):
        return None
    scheme = key.removeprefix("reserve_months_")
    meta = comparison.meta
    alerts = [a for a in meta.get("reserve_alerts") or []
              if a["scheme"] == scheme and a["scenario"] in (reform, meta.get("baseline"))]
    if not alerts:
        return None
    first = min(alerts, key=lambda a: a["year"])
    return text(lang, "reserve_alert", threshold=f"{meta.get('reserve_warning_months', 6):g}",
                year=first["year"], scenario=comparison.name(first["scenario"], lang))


def baseline_shown(lang: str, key: str, value: float) -> str:
    """The baseline level of a headline number (a share is shown in per cent)."""
    if not math.isfinite(value):
        return "–"
    if key in ("basic_share_lower_levels", "upcoded_share"):
        return f"{number(value * 100, 1)}%"
    kind = {"fund_balance": "money", "annual_point_value": "point", "upcoding_gap": "cmi",
            "reserve_months_employee": "months", "reserve_months_resident": "months"}[key]
    return quantities(lang, kind, [value], decimals=3 if kind == "cmi" else 1
                      if kind == "months" else None)[0]


def charts_html(comparison: Comparison, lang: str, charts: list[Chart]) -> str:
    sentences = readings(comparison, lang)
    parts = [f"<h2>{escape(text(lang, 'charts_heading'))}</h2>"]
    for chart in charts:
        parts.append(figure_html(chart, lang, sentences.get(chart.name, [])))
    return f'<section id="charts">{"".join(parts)}</section>'


def figure_html(chart: Chart, lang: str, sentences: list[str]) -> str:
    """One chart, embedded, with its reading and a link to its CSV twin."""
    encoded = base64.b64encode(chart.png.read_bytes()).decode("ascii")
    items = "".join(f"<li>{escape(s)}</li>" for s in sentences)
    link = f"charts/{lang}/{chart.csv.name}"
    return (f'<figure id="{chart.name}"><h3>{escape(chart.title)}</h3>'
            f'<img class="chart" alt="{escape(chart.title)}" '
            f'src="data:image/png;base64,{encoded}">'
            f'<figcaption><ul>{items}</ul><a class="data" href="{escape(link)}">'
            f'{escape(text(lang, "data_link"))}</a></figcaption></figure>')


def rationale_text(rationale: object, lang: str) -> str:
    """A reform's rationale in ``lang``: in Chinese its ``summary_zh`` (or a rationale written in
    Chinese), else nothing (the parameter table says what changes); in English the rationale
    without its Chinese parts."""
    if isinstance(rationale, dict):
        if lang == "zh":
            return str(rationale.get("summary_zh") or "")
        return "; ".join(f"{k}: {v}" for k, v in rationale.items() if not k.endswith("_zh"))
    shown = "" if rationale is None else str(rationale)
    if lang == "zh" and not re.search(r"[\u4e00-\u9fff]", shown):
        return ""
    return shown


def region_title(meta: dict, lang: str) -> str:
    """The region's name in the report language (its Chinese title where it has one)."""
    if lang == "zh" and meta.get("region_title_zh"):
        return meta["region_title_zh"]
    return meta.get("region_title", "")


def assumptions_html(comparison: Comparison, lang: str) -> str:
    meta = comparison.meta
    first, last = int(meta["start_year"]), comparison.last_year
    low, high = (round(v * 100) for v in meta.get("interval", [0.05, 0.95]))
    scenarios = []
    for scenario in meta["scenarios"]:
        role = text(lang, "baseline") if scenario["label"] == comparison.baseline else text(
            lang, "reform")
        colon = text(lang, "colon")
        details = [f"{text(lang, 'method')}{colon}{method_name(lang, scenario.get('method', ''))}",
                   f"{text(lang, 'file')}{colon}{Path(str(scenario.get('file') or '')).name}"]
        rationale = rationale_text(scenario.get("rationale"), lang)
        if rationale:
            details.append(f"{text(lang, 'rationale')}{colon}{rationale}")
        shown = comparison.name(scenario["label"], lang)
        scenarios.append([escape(role), f"<strong>{escape(shown)}</strong>"
                          f"<br><span class=\"small\">{escape(' · '.join(details))}</span>"])
    rows = [
        [escape(text(lang, "region")), escape(f"{region_title(meta, lang)} "
                                              f"({Path(str(meta.get('region', ''))).name})")],
        *([[escape(text(lang, "catalogue")), escape(
            Path(str(meta["catalogue"])).stem
            + (" (--catalogue)" if meta.get("catalogue_from") == "--catalogue" else ""))]]
          if meta.get("catalogue") else []),
        [escape(text(lang, "years")), escape(f"{first}–{last} ({meta['years']})")],
        [escape(text(lang, "replications")), escape(meta["replications"])],
        [escape(text(lang, "seed")), escape(meta["seed"])],
        [escape(text(lang, "scale")), escape(show_value(meta.get("scale")))],
        [escape(text(lang, "interval")), escape(text(lang, "interval_value", low=low,
                                                     high=high))],
        *scenarios,
    ]
    differing = differing_rows(meta, lang)
    differing_table = table_html(
        [text(lang, "reform"), text(lang, "parameter"), text(lang, "in_force"),
         text(lang, "baseline_column"), text(lang, "reform_column")],
        [[escape(comparison.name(scenario, lang)), parameter_cell(lang, parameter),
          escape(years), escape(base), escape(reform)]
         for scenario, parameter, years, base, reform in differing], "grid") if differing else (
        f"<p>{escape(text(lang, 'no_differences'))}</p>")
    return (f'<section id="assumptions"><h2>{escape(text(lang, "assumptions_heading"))}</h2>'
            f'<p>{escape(text(lang, "assumptions_text"))}</p>{table_html(None, rows, "facts")}'
            f'<h3>{escape(text(lang, "differing_heading"))}</h3>{differing_table}</section>')


def record_html(comparison: Comparison, lang: str) -> str:
    seeds = comparison.record.get("seeds") or {
        "root": comparison.meta.get("seed"),
        "replications": comparison.meta.get("replication_seeds")}
    return record_section(comparison.record, seeds, lang)


def record_section(record: dict, seeds: dict, lang: str) -> str:
    """Versions, revision, platform, seeds and input hashes; the whole record (without its list
    of outputs, which ``drgsim report`` extends) folded away, and left out of print."""
    unknown = text(lang, "unknown")
    versions = ", ".join(f"{k} {v}" for k, v in (record.get("versions") or {}).items())
    inputs = []
    for role, files in (record.get("inputs") or {}).items():
        for entry in files if isinstance(files, list) else [files]:
            if isinstance(entry, dict):
                inputs.append(f"{role}: {entry.get('path')} — {entry.get('sha256')}")
    rows = [
        [escape(text(lang, "versions")), escape(versions or unknown)],
        [escape(text(lang, "git_revision")),
         f"<code>{escape(record.get('git_revision') or unknown)}</code>"],
        [escape(text(lang, "platform")), escape(record.get("platform") or unknown)],
        [escape(text(lang, "seeds")), escape(show_parameter(lang, seeds))],
        [escape(text(lang, "inputs")),
         "<br>".join(f'<code class="path">{escape(i)}</code>' for i in inputs)
         or escape(unknown)],
    ]
    shown = {key: value for key, value in record.items() if key != "outputs"}
    full = json.dumps(shown, ensure_ascii=False, indent=2, default=str)
    return (f'<section id="record"><h2>{escape(text(lang, "record_heading"))}</h2>'
            f'{table_html(None, rows, "facts record")}'
            f'<details><summary>{escape(text(lang, "record_summary"))}</summary>'
            f'<h3>{escape(text(lang, "full_record"))}</h3><pre>{escape(full)}</pre>'
            f'</details></section>')


STYLESHEET = """
body { margin: 0 auto; max-width: 1000px; padding: 24px 28px 48px; color: #222;
  font-family: FONTS; font-size: 15px; line-height: 1.6; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; border-bottom: 2px solid #3a7ca5; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 8px; }
.subtitle, .note, .small, .base, .interval { color: #555; }
.note { font-size: 13px; }
.small { font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; }
.card { border: 1px solid #d0d7de; border-left: 5px solid #3a7ca5; border-radius: 6px;
  padding: 10px 12px; background: #f8fafc; }
.card.noise { border-left-color: #b0b0b0; background: #f4f4f4; color: #666; }
.card.warn { border-left-color: #d1495b; background: #fff3f3; }
.card .alert { color: #a4161a; font-weight: bold; font-size: 12px; margin-top: 4px; }
.metric { font-size: 13px; font-weight: 600; min-height: 2.6em; }
.value { font-size: 21px; font-weight: 700; margin: 4px 0; }
.interval, .base, .caveat { font-size: 12px; }
.caveat { color: #8a6d00; }
figure { margin: 24px 0 32px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption ul { margin: 8px 0 4px; padding-left: 20px; }
a.data { font-size: 12px; color: #3a7ca5; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
table.facts td { padding: 4px 12px 4px 0; vertical-align: top; }
table.facts td:first-child { color: #555; white-space: nowrap; }
table.grid th, table.grid td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; }
table.grid th { background: #f0f4f8; }
details { margin-top: 8px; }
summary { cursor: pointer; color: #3a7ca5; }
pre { background: #f6f8fa; padding: 12px; font-size: 12px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-all; }
code { font-size: 13px; }
code.path { font-size: 11px; color: #666; word-break: break-all; }
table.record td { font-size: 12px; }
@media (max-width: 760px) { .cards { grid-template-columns: repeat(2, 1fr); } }
@page { size: A4; margin: 14mm 12mm 16mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-family: FONTS;
    font-size: 9pt; color: #777; } }
@media print {
  html, body { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { max-width: none; padding: 0; font-size: 10.5pt; line-height: 1.5; }
  h1 { font-size: 19pt; } h2 { font-size: 14pt; margin-top: 18pt; } h3 { font-size: 11.5pt; }
  h2, h3 { break-after: avoid; }
  header, .card, figure, tr, .cards, p.finding { break-inside: avoid; }
  /* a reform's block is longer than a page: it may break (kept whole it left page 1 empty) */
  #assumptions, #record { break-before: page; }
  table.grid td, table.grid th { padding: 2px 6px; font-size: 9.5pt; }
  figure { margin: 10pt 0 16pt; }
  .cards { grid-template-columns: repeat(3, 1fr); gap: 8px; }
  figure img { max-height: 88mm; max-width: 100%; width: auto; margin: 0 auto; }
  figcaption { font-size: 9.5pt; }
  a.data, details { display: none; }
  pre { white-space: pre-wrap; }
}
"""

SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.querySelectorAll("img.chart"));
  var loaded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; });
  document.body.setAttribute("data-charts-total", String(images.length));
  document.body.setAttribute("data-charts-loaded", String(loaded.length));
});
"""

FONT_STACKS = {
    "zh": ["'{embedded}'", "'Noto Sans CJK SC'", "'Noto Sans SC'", "'PingFang SC'",
           "'Microsoft YaHei'", "'Source Han Sans SC'", "sans-serif"],
    "en": ["system-ui", "-apple-system", "'Segoe UI'", "Roboto", "'Helvetica Neue'", "Arial",
           "'{embedded}'", "'Noto Sans CJK SC'", "sans-serif"],
}


def subtitle_text(meta: dict, lang: str, last_year: int, baseline: str) -> str:
    """Region, years, runs per scenario (replications, × parameter sets with draws), baseline."""
    draws = meta.get("parameter_draws") or {}
    key = ("subtitle" if not draws else "subtitle.each" if draws.get("design") == "each"
           else "subtitle.draws")
    return text(lang, key, region=region_title(meta, lang), first=meta["start_year"],
                last=last_year, replications=meta["replications"], draws=draws.get("draws"),
                baseline=baseline)


def render_page(comparison: Comparison, lang: str, charts: list[Chart]) -> str:
    meta = comparison.meta
    title = text(lang, "page_title")
    subtitle = subtitle_text(meta, lang, comparison.last_year,
                             comparison.name(comparison.baseline, lang))
    body = (f"<header><h1>{escape(title)}</h1><p class=\"subtitle\">{escape(subtitle)}</p>"
            f"</header>{headline_html(comparison, lang)}{charts_html(comparison, lang, charts)}"
            f"{assumptions_html(comparison, lang)}{record_html(comparison, lang)}")
    return page_html(lang, title, body)


def page_html(lang: str, title: str, body: str) -> str:
    """The whole page around ``body``: styles for screen and print, the Chinese glyphs it uses
    as an embedded font subset, the script that counts the loaded charts."""
    visible = html.unescape(re.sub(r"<[^>]+>", "", body)) + title
    # every glyph shown, Latin too: a printer's machine without fonts still prints every word
    font_face = inline_font_face("".join(sorted(set(visible) - set(" \n\t"))))
    embedded = f"{CJK_FAMILY} (embedded)"
    fonts = ", ".join(f.format(embedded=embedded) for f in FONT_STACKS[lang])
    style = font_face + STYLESHEET.replace("FONTS", fonts) + findings_page.STYLESHEET
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n'
            f'<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{style}</style>\n</head>\n"
            f"<body>\n{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n")

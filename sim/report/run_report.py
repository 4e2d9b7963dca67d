"""The short report of one run (``drgsim run``): ``report.zh.html``/``report.en.html`` and their
PDFs, written by the comparison briefing's own code (:func:`sim.report.briefing.write_reports`,
its page, tables, record and styles): the last year's numbers with the first year's beside them
(one seed, so no intervals), the run's charts in the report's language, the policy, reforms and
every parameter in force on the first day (named in the report's language), and the run record.
Built from the stored files of a run folder only, so ``drgsim report RUN_DIR`` rebuilds it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import InputError, read_json
from sim.report.briefing import (
    Written,
    escape,
    figure_html,
    languages,
    page_html,
    parameter_cell,
    record_section,
    show_value,
    table_html,
    write_reports,
)
from sim.report.compare_charts import Chart
from sim.report.labels import number, quantities, text
from sim.report.parameter_labels import method_name, show_parameter

TABLES = ("yearly", "yearly_by_level", "fund_by_scheme", "monthly")
CHART_TITLES = {"fund_balance": "run.fund_balance.title",
                "fund_by_scheme": "run.fund_by_scheme.title",
                "point_value": "point_value.title", "cmi": "cmi.title",
                "admissions_by_level": "run.admissions.title"}
EXPECTED = "a folder written by drgsim run (run it again to rebuild)"


@dataclass
class Run:
    """The stored results of one run folder."""

    folder: Path
    record: dict
    tables: dict[str, pd.DataFrame]

    @property
    def parameters(self) -> dict:
        return self.record.get("parameters") or {}


def load_run(folder: Path) -> Run:
    folder = Path(folder)
    record = read_json(folder / "run_record.json", EXPECTED)
    if record.get("kind") != "run":
        raise InputError(str(folder / "run_record.json"), "kind",
                         f"value {record.get('kind')!r}", EXPECTED)
    tables = {}
    for name in TABLES:
        path = folder / f"{name}.parquet"
        if not path.is_file():
            raise InputError(str(path), None, "missing", EXPECTED)
        tables[name] = pd.read_parquet(path)
    return Run(folder, record, tables)


def build_run_report(folder: Path, lang: str | Sequence[str] | None = None,
                     pdf: bool = True) -> Written:
    """Charts and ``report.<lang>.html`` (and PDF) of a run folder, each language asked for."""
    from sim.report.charts import run_charts  # matplotlib: only when drawn

    run = load_run(Path(folder))

    def draw(lang: str, where: Path) -> list[Chart]:
        paths = run_charts(run.tables, where, lang)
        return [Chart(p.stem, text(lang, CHART_TITLES[p.stem]), p, p.with_suffix(".csv"))
                for p in paths]

    return write_reports(Path(folder), languages(lang), draw,
                         lambda lang, charts: render_run_page(run, lang, charts), pdf)


def region_name(run: Run, lang: str) -> str:
    region = run.parameters.get("region") or {}
    return (lang == "zh" and region.get("title_zh")) or region.get("title", "")


def policy_name(policy: dict, lang: str) -> str:
    return (lang == "zh" and policy.get("title_zh")) or policy.get("title", "")


def render_run_page(run: Run, lang: str, charts: list[Chart]) -> str:
    yearly = run.tables["yearly"].sort_values("year")
    policy = run.parameters.get("policy") or {}
    title = text(lang, "run.page_title")
    subtitle = text(lang, "run.subtitle", region=region_name(run, lang),
                    first=int(yearly["year"].iloc[0]), last=int(yearly["year"].iloc[-1]),
                    policy=policy_name(policy, lang),
                    seed=(run.record.get("seeds") or {}).get("root", "–"))
    figures = "".join(figure_html(chart, lang, []) for chart in charts)
    body = (f"<header><h1>{escape(title)}</h1><p class=\"subtitle\">{escape(subtitle)}</p>"
            f"</header>{headline(run, lang)}"
            f'<section id="charts"><h2>{escape(text(lang, "charts_heading"))}</h2>{figures}'
            f"</section>{assumptions(run, lang)}"
            f"{record_section(run.record, run.record.get('seeds') or {}, lang)}")
    return page_html(lang, title, body)


# (column, kind, scale, decimals): the numbers of a run's headline
CARDS = (("fund_balance", "money", 1.0, None), ("reserve_months_employee", "months", 1.0, 1),
         ("reserve_months_resident", "months", 1.0, 1), ("annual_point_value", "point", 1.0,
                                                          None),
         ("upcoding_gap", "cmi", 1.0, 3), ("upcoded_share", "percent", 100.0, 1),
         ("share_tertiary", "percent", 100.0, 1), ("hospitals_in_deficit", "count", 1.0, 0))


# the yearly table's fund_balance is the year's surplus (revenue − spending), named as it is
CARD_NAMES = {"fund_balance": "run.surplus_card"}


def shown(lang: str, kind: str, value: float, scale: float, decimals: int | None) -> str:
    if not math.isfinite(value):
        return "–"
    if kind == "percent":
        return f"{number(value * scale, decimals)}%"
    if kind == "count":
        return text(lang, "hospitals", count=number(value, 0))
    return quantities(lang, kind, [value], scale=scale, decimals=decimals)[0]


def headline(run: Run, lang: str) -> str:
    yearly = run.tables["yearly"].sort_values("year").assign(
        upcoding_gap=lambda t: t["coded_cmi"] - t["true_cmi"])
    first, last = yearly.iloc[0], yearly.iloc[-1]
    threshold = (run.parameters.get("region") or {}).get("reserve_warning_months") or 6
    cards = []
    for column, kind, scale, decimals in CARDS:
        if column not in yearly:
            continue
        value = float(last[column])
        if kind == "point" and not math.isfinite(value):
            continue  # not the point method
        warn = column.startswith("reserve_months_") and value < threshold
        cards.append(
            f'<div class="card{" warn" if warn else ""}">'
            f'<div class="metric">{escape(text(lang, CARD_NAMES.get(column, column)))}</div>'
            f'<div class="value">{escape(shown(lang, kind, value, scale, decimals))}</div>'
            f'<div class="base">{escape(text(lang, "run.first_year", year=int(first["year"]), value=shown(lang, kind, float(first[column]), scale, decimals)))}</div>'  # noqa: E501
            "</div>")
    year = int(last["year"])
    return (f'<section id="headline"><h2>{escape(text(lang, "run.headline_heading", year=year))}'
            f'</h2><p class="note">{escape(text(lang, "run.headline_note"))}</p>'
            f'<div class="reform"><div class="cards">{"".join(cards)}</div></div></section>')


def assumptions(run: Run, lang: str) -> str:
    parameters = run.parameters
    policy = parameters.get("policy") or {}
    reforms = [policy_name(reform, lang) for reform in policy.get("reforms") or []]
    catalogue = (parameters.get("catalogue") or {}).get("path")
    start = int(parameters.get("start_year", 0) or 0)
    years = int(parameters.get("years", 0) or 0)
    colon = text(lang, "colon")
    rows = [
        [escape(text(lang, "region")), escape(region_name(run, lang))],
        *([[escape(text(lang, "catalogue")), escape(Path(str(catalogue)).stem)]]
          if catalogue else []),
        [escape(text(lang, "run.policy")),
         escape(policy_name(policy, lang) + text(
             lang, "unit_in_brackets",
             unit=f"{text(lang, 'method')}{colon}{method_name(lang, policy.get('method', ''))}"))],
        [escape(text(lang, "run.reforms")),
         escape(text(lang, "list_sep").join(reforms) or text(lang, "run.no_reforms"))],
        [escape(text(lang, "years")), escape(f"{start}–{start + years - 1} ({years})")],
        [escape(text(lang, "seed")), escape((run.record.get("seeds") or {}).get("root", "–"))],
        [escape(text(lang, "scale")), escape(show_value(parameters.get("scale")))],
    ]
    values = dict(parameters.get("values_at_start") or {})
    values.update({f"behaviour.{path}" if not path.startswith("behaviour.") else path: value
                   for path, value in (policy.get("behaviour") or {}).items()})
    table = table_html([text(lang, "parameter"), text(lang, "run.value")],
                       [[parameter_cell(lang, path), escape(show_parameter(lang, value, path))]
                        for path, value in sorted(values.items())], "grid")
    on = (f"{start}年1月1日" if lang == "zh" else dt.date(start, 1, 1).isoformat()) if start else ""
    return (f'<section id="assumptions"><h2>{escape(text(lang, "assumptions_heading"))}</h2>'
            f'{table_html(None, rows, "facts")}'
            f'<h3>{escape(text(lang, "run.parameters_heading", date=on))}</h3>{table}</section>')

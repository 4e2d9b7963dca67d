"""Settling bureau-shaped extracts: a GBK CSV with Chinese headers and an Excel workbook.

    .venv/bin/python benchmarks/extracts.py                    # 1 M-row CSVs, 100 k-row .xlsx
    .venv/bin/python benchmarks/extracts.py --csv-rows 200000 --xlsx-rows 20000 --repeat 1

One synthetic year (``sim.inputs.synthetic.synthetic_year``, Guangxi catalogue, 1,000 hospitals,
seed 2024) is written once into ``benchmarks/_work/`` in three shapes:

- ``clean csv``: drgsim's own columns, UTF-8, ISO dates;
- ``bureau gbk csv``: the same cases as a settlement-list extract: GBK, CRLF, Chinese headers,
  amounts with thousands separators, dates ``2023/3/5``, levels ``三级甲等``/``二级``/``一级``,
  a scheme column (职工/居民) and two columns drgsim does not read;
- ``bureau xlsx``: the first ``--xlsx-rows`` cases as an Excel workbook with date cells and
  numeric amounts (and its clean CSV twin of the same rows, ``clean csv (xlsx rows)``).

Every workload is ``sim.commands.settle.settle_to_folder`` end to end (read, validate, settle,
write the run folder) in a fresh interpreter; peak RSS is the child's own. Printed and written to
``benchmarks/results/extracts.json``: medians, and each bureau shape's ratio to its clean twin.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work"
sys.path.insert(0, str(HERE))
from childproc import emit, median, run_child  # noqa: E402

HEADERS = {"case_id": "结算ID", "patient_id": "人员编号", "hospital_id": "医疗机构编码",
           "hospital_level": "医院等级", "drg": "DRG组编码", "cost": "医疗总费用(元)",
           "fund_paid": "基金支付", "patient_paid": "个人支付", "los_days": "住院天数",
           "discharge_date": "出院日期", "admission_date": "入院日期", "self_pay": "全自费金额",
           "unreasonable_cost": "不合理费用", "review": "单议类型",
           "review_approved": "单议通过"}
LEVELS = {"tertiary": "三级甲等", "secondary": "二级", "primary": "一级"}


def paths(csv_rows: int, xlsx_rows: int) -> dict[str, Path]:
    return {"clean csv": WORK / f"extract_clean_{csv_rows}.csv",
            "bureau gbk csv": WORK / f"extract_gbk_{csv_rows}.csv",
            "clean csv (xlsx rows)": WORK / f"extract_clean_{xlsx_rows}.csv",
            "bureau xlsx": WORK / f"extract_{xlsx_rows}.xlsx"}


def write_files(csv_rows: int, xlsx_rows: int) -> None:
    sys.path.insert(0, str(ROOT))
    import openpyxl
    import pandas as pd

    from sim.inputs.catalogue import load_catalogue
    from sim.inputs.synthetic import synthetic_year

    files = paths(csv_rows, xlsx_rows)
    if all(path.exists() for path in files.values()):
        return
    WORK.mkdir(exist_ok=True)
    catalogue = load_catalogue(ROOT / "scenarios" / "catalogues" / "guangxi_2022.csv")
    frame = synthetic_year(catalogue, csv_rows, 1000, 2023, seed=2024)
    frame.to_csv(files["clean csv"], index=False)
    frame.head(xlsx_rows).to_csv(files["clean csv (xlsx rows)"], index=False)
    messy = frame.rename(columns=HEADERS)
    messy["医院等级"] = frame.hospital_level.map(LEVELS)
    for name in ("cost", "fund_paid", "patient_paid", "self_pay"):
        messy[HEADERS[name]] = frame[name].map("{:,.2f}".format)
    for name in ("discharge_date", "admission_date"):
        day = pd.to_datetime(frame[name])
        messy[HEADERS[name]] = (day.dt.year.astype(str) + "/" + day.dt.month.astype(str) + "/"
                                + day.dt.day.astype(str))
    messy["单议类型"] = frame.review.map({"none": "无", "special": "特病单议",
                                       "whole_group": "整组单议"})
    messy["单议通过"] = frame.review_approved.map({False: "否", True: "是"})
    messy["险种类型"] = ["职工" if i % 3 else "城乡居民" for i in range(len(frame))]
    messy["主要诊断"] = "I21.0"
    messy["备注"] = ""
    with open(files["bureau gbk csv"], "w", encoding="gbk", newline="") as handle:
        messy.to_csv(handle, index=False, lineterminator="\r\n")
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("结算清单")
    head = frame.head(xlsx_rows)
    sheet.append([HEADERS[name] for name in head.columns])
    for row in head.itertuples(index=False):
        cells = list(row)
        for position, name in enumerate(head.columns):
            if name.endswith("_date"):
                cells[position] = dt.date.fromisoformat(cells[position])
            elif name == "hospital_level":
                cells[position] = LEVELS[cells[position]]
            elif name == "review_approved":
                cells[position] = bool(cells[position])
        sheet.append(cells)
    book.save(files["bureau xlsx"])


def child(spec: dict) -> None:
    if spec["workload"] == "write":
        write_files(spec["csv_rows"], spec["xlsx_rows"])
        emit({})
        return
    sys.path.insert(0, str(ROOT))
    from sim.commands.settle import settle_to_folder

    scenarios = ROOT / "scenarios"
    started = time.perf_counter()
    result, _ = settle_to_folder(Path(spec["path"]), scenarios / "catalogues/guangxi_2022.csv",
                                 scenarios / "policies/point.yaml", [], None, None,
                                 Path(spec["out"]), parquet=True)
    emit({"seconds": time.perf_counter() - started, "cases": result.summary["cases"],
          "fund_payable": result.summary["totals"]["fund_payable"]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    run_child(Path(__file__), {"workload": "write", "csv_rows": args.csv_rows,
                               "xlsx_rows": args.xlsx_rows}, ROOT)
    files = paths(args.csv_rows, args.xlsx_rows)
    scratch = Path(tempfile.mkdtemp(prefix="drgsim-extracts-"))
    times: dict = {name: [] for name in files}
    rss: dict = {name: [] for name in files}
    payable: dict = {}
    try:
        for repetition in range(args.repeat):
            for name, path in files.items():
                out = scratch / f"out-{repetition}-{name.replace(' ', '_')}"
                result = run_child(Path(__file__), {"workload": name, "path": str(path),
                                                    "out": str(out)}, ROOT)
                times[name].append(result["seconds"])
                rss[name].append(result["peak_rss_mib"])
                payable[name] = result["fund_payable"]
                shutil.rmtree(out, ignore_errors=True)
                print(f"repetition {repetition + 1}/{args.repeat}: {name}: "
                      f"{result['seconds']:.2f} s", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert payable["clean csv"] == payable["bureau gbk csv"], payable
    assert payable["clean csv (xlsx rows)"] == payable["bureau xlsx"], payable
    twins = {"bureau gbk csv": "clean csv", "bureau xlsx": "clean csv (xlsx rows)"}
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
    rows = []
    print(f"\nsettle end to end, {args.repeat} repetitions, medians ({revision})")
    print(f"{'workload':<24} {'rows':>10} {'seconds':>8} {'× clean':>8} {'peak MiB':>9}")
    for name in files:
        seconds = median(times[name])
        ratio = seconds / median(times[twins[name]]) if name in twins else None
        rows_n = args.xlsx_rows if "xlsx" in name else args.csv_rows
        rows.append({"workload": name, "rows": rows_n, "seconds": seconds,
                     "ratio_to_clean": ratio, "peak_rss_mib": median(rss[name]),
                     "all_seconds": times[name]})
        shown = f"{ratio:>8.2f}" if ratio is not None else f"{'':>8}"
        print(f"{name:<24} {rows_n:>10,} {seconds:>8.2f} {shown} {median(rss[name]):>9,.0f}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "extracts.json").write_text(json.dumps(
        {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
         "revision": revision, "repeat": args.repeat, "rows": rows}, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()

"""`drgsim region build` (issue 10, parts 1–3): a region from a year of discharges reproduces
that year, runs like the default region, and refuses bad input in one line, writing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from calibration.region_build import build_region_file, model_year_extract
from sim.commands.cli import main
from sim.commands.compare import compare_to_folder
from sim.inputs.cases import load_cases
from sim.inputs.catalogue import load_catalogue
from sim.inputs.policy import DEFAULT_LEVELS, load_policy
from sim.inputs.region import load_region_config
from sim.model.calendar import run_calendar
from sim.model.model import RegionModel
from sim.resources import shipped
from tests.conftest import tree

CATALOGUE = "guangxi_2022"


def _model_year(scale: float, seed: int, config: dict | None = None) -> RegionModel:
    """One fee-for-service year of a region (after its burn-in year)."""
    if config is None:
        config, _ = load_region_config("default")
    model = RegionModel(config, load_policy(shipped("policies", "ffs", ".yaml")),
                        start_year=2023, years=1, seed=seed, scale=scale)
    run_calendar(model, progress=False)
    return model


def _write_year(model: RegionModel, folder: Path) -> tuple[Path, Path, Path]:
    cases, hospitals, insured = model_year_extract(model)
    folder.mkdir(parents=True, exist_ok=True)
    cases.to_csv(folder / "cases.csv", index=False)
    hospitals.to_csv(folder / "hospitals.csv", index=False)
    (folder / "insured.yaml").write_text(yaml.safe_dump(insured), "utf-8")
    return folder / "cases.csv", folder / "hospitals.csv", folder / "insured.yaml"


def _year_figures(path: Path) -> dict:
    """Admissions per hospital, cost per case by level, scheme mix and CMI of a case table."""
    catalogue = load_catalogue(shipped("catalogues", CATALOGUE, ".csv"))
    cases = load_cases(path, catalogue, DEFAULT_LEVELS)
    level = cases.hospital_level[cases.hospital]
    return {
        "admissions": pd.Series(np.bincount(cases.hospital, minlength=cases.n_hospitals),
                                index=cases.hospital_ids.astype(str)),
        "cost_per_case": np.bincount(level, weights=cases.cost, minlength=3)
        / np.bincount(level, minlength=3),
        "employee_share": float(np.mean(cases.scheme == 0)),
        "cmi": float(catalogue.weights[cases.group].mean()),
    }


def test_a_built_region_reproduces_its_input_year(tmp_path):
    """Round trip: the default region's fee-for-service year (scale 0.2, ~110,000 cases) as a
    bureau's case table, hospital list and insured file; the region built from them, run under
    fee-for-service with another seed, gives that year again: admissions per hospital with
    ≥ 500 cases ±5% (or, where Poisson noise alone is wider, 3 Poisson sd: 1/√n is 4.5% at
    500 cases), cost per case by level ±3%, the scheme mix and the CMI ±2%."""
    cases, hospitals, insured = _write_year(_model_year(0.2, seed=1), tmp_path / "bureau")
    out = tmp_path / "built.yaml"
    result = build_region_file(cases, CATALOGUE, out, hospitals, insured)
    assert result.volume_error < 1e-5  # the calibrated choice gives every measured volume
    built, _ = load_region_config(out)
    again, _, _ = model_year_extract(_model_year(1.0, seed=7, config=built))
    again.to_csv(tmp_path / "again.csv", index=False)
    before, after = _year_figures(cases), _year_figures(tmp_path / "again.csv")

    large = before["admissions"][before["admissions"] >= 500]
    error = after["admissions"].reindex(large.index).fillna(0) / large - 1
    bound = np.maximum(0.05, 3 / np.sqrt(large))
    cost_error = after["cost_per_case"] / before["cost_per_case"] - 1
    scheme_error = after["employee_share"] / before["employee_share"] - 1
    cmi_error = after["cmi"] / before["cmi"] - 1
    print(f"\nround trip: {len(large)} hospitals with >= 500 cases: admissions error mean "
          f"|{error.abs().mean():.2%}|, max |{error.abs().max():.2%}|, within 5%: "
          f"{(error.abs() <= 0.05).mean():.0%}; cost per case by level "
          + ", ".join(f"{e:+.2%}" for e in cost_error)
          + f"; employee share {scheme_error:+.2%}; CMI {cmi_error:+.2%}; all admissions "
          f"{after['admissions'].sum() / before['admissions'].sum() - 1:+.2%}")
    assert (error.abs() <= bound).all(), error[error.abs() > bound]
    assert error.abs().mean() <= 0.05
    assert np.all(np.abs(cost_error) <= 0.03), cost_error
    assert abs(scheme_error) <= 0.02
    assert abs(cmi_error) <= 0.02
    # the bureau's ids, the measured and the assumed, in the file
    assert set(built["sources"]) >= {"schemes.employee.insured", "cost_per_admission.tertiary",
                                     "counties.population_share", "behaviour.readmission_base"}
    assert built["sources"]["schemes.employee.insured"].startswith("measured: insured.yaml")
    assert built["sources"]["counties.distance_km"].startswith("assumed")
    assert built["schemes"]["resident"]["fund_balance"] == yaml.safe_load(
        insured.read_text("utf-8"))["resident"]["fund_balance"]
    # spending outside DRG inpatient care: 0.84 (BEHAVIOUR §8) − the input year's fund
    # payments of the scheme's cases ÷ its income, by hand from the three files
    # (the cases discharged in the settled year: a few follow-ups of December spill over)
    frame, given = pd.read_csv(cases), yaml.safe_load(insured.read_text("utf-8"))
    year = pd.to_datetime(frame["discharge_date"]).dt.year
    frame = frame[year == year.mode()[0]]
    for scheme in ("employee", "resident"):
        income = given[scheme]["insured"] * given[scheme]["contribution_per_insured"]
        paid = frame.loc[frame["scheme"] == scheme, "fund_paid"].sum()
        assert built["schemes"][scheme]["non_drg_spending_share"] == pytest.approx(
            0.84 - paid / income, abs=1e-6)


CHINESE_CASES = {"case_id": "结算ID", "patient_id": "人员编号", "hospital_id": "医疗机构编码",
                 "hospital_level": "医院等级", "drg": "DRG编码", "cost": "医疗总费用",
                 "fund_paid": "基金支付", "patient_paid": "个人支付", "self_pay": "全自费金额",
                 "los_days": "住院天数", "admission_date": "入院日期",
                 "discharge_date": "出院日期", "scheme": "险种"}
COUNTIES = {"city": ("市辖区", 22.8, 108.3), "north": ("北县", 23.3, 108.4),
            "east": ("东县", 22.9, 108.9), "south": ("南县", 22.3, 108.2),
            "west": ("西县", 22.8, 107.6)}


@pytest.fixture(scope="module")
def chinese_inputs(tmp_path_factory) -> dict[str, Path]:
    """A small year (scale 0.05) as a Chinese bureau exports it: Chinese headers and values,
    a Chinese hospital list with coordinates, an insured file by 职工/居民."""
    folder = tmp_path_factory.mktemp("bureau")
    cases, hospitals, insured = model_year_extract(_model_year(0.05, seed=2))
    cases["hospital_level"] = cases["hospital_level"].map(
        {"primary": "一级", "secondary": "二级", "tertiary": "三级"})
    cases["scheme"] = cases["scheme"].map({"employee": "职工基本医疗保险",
                                           "resident": "城乡居民基本医疗保险"})
    cases.rename(columns=CHINESE_CASES).to_csv(folder / "结算清单.csv", index=False,
                                               encoding="gbk")
    listing = pd.DataFrame({
        "医院编码": hospitals["hospital_id"], "医院名称": "医院" + hospitals["hospital_id"],
        "等级": hospitals["level"].map({"primary": "一级", "secondary": "二级甲等",
                                        "tertiary": "三甲"}),
        "所在区县": hospitals["county"].map(lambda c: COUNTIES[c][0]),
        "床位数": hospitals["beds"],
        "所有制": hospitals["ownership"].map({"public": "公立", "private": "民营"}),
        "纬度": hospitals["county"].map(lambda c: COUNTIES[c][1]),
        "经度": hospitals["county"].map(lambda c: COUNTIES[c][2])})
    listing.to_csv(folder / "医院名单.csv", index=False, encoding="utf-8-sig")
    (folder / "参保.yaml").write_text(yaml.safe_dump(
        {"职工": insured["employee"], "居民": insured["resident"]}, allow_unicode=True), "utf-8")
    return {"cases": folder / "结算清单.csv", "hospitals": folder / "医院名单.csv",
            "insured": folder / "参保.yaml", "folder": folder}


def test_a_region_built_from_a_chinese_extract_runs_two_years(chinese_inputs, tmp_path, capsys):
    out = tmp_path / "我的地区.yaml"
    code = main(["region", "build", "--cases", str(chinese_inputs["cases"]), "--catalogue",
                 CATALOGUE, "--hospitals", str(chinese_inputs["hospitals"]), "--insured",
                 str(chinese_inputs["insured"]), "--title", "某市", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "drgsim run" in captured.out and "assumed:" in captured.err
    config, _ = load_region_config(out)
    assert config["title"] == "某市" and "市辖区" in config["counties"]["names"]
    assert config["sources"]["counties.distance_km"].startswith("measured: 医院名单.csv")
    distance = np.array(config["counties"]["distance_km"])
    assert distance.shape == (5, 5) and 40 < distance[0, 2] < 80  # ≈ 62 km apart
    listed = pd.read_csv(out.with_name("我的地区.hospitals.csv"), dtype=str)
    assert listed.loc[listed["hospital_id"] == "T0076", "level"].item() == "tertiary"
    assert listed.loc[listed["hospital_id"] == "T0076", "grade"].item() == "A"
    code = main(["run", str(out), "--years", "2", "--no-charts", "--out",
                 str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    yearly = pd.read_csv(tmp_path / "run" / "hospital_yearly.csv", dtype={"hospital_id": str})
    assert set(yearly["hospital_id"]) <= set(listed["hospital_id"])
    assert "T0076" in set(yearly["hospital_id"]) and yearly["year"].nunique() == 2
    # compare takes it as run does, and its run record hashes the tables beside the file
    compare_to_folder(str(out), "point", [shipped("reforms", "audit_double", ".yaml")], 1,
                      seed=1, years=1, start_year=2023, scale=1.0, out=tmp_path / "compare",
                      progress=False, briefing=False)
    record = json.loads((tmp_path / "compare" / "run_record.json").read_text("utf-8"))
    hashed = {Path(entry["path"]).name for entry in record["inputs"]["region"]}
    assert hashed == {"我的地区.yaml", "我的地区.hospitals.csv", "我的地区.families.csv"}
    run_record = json.loads((tmp_path / "run" / "run_record.json").read_text("utf-8"))
    assert {Path(e["path"]).name for e in run_record["inputs"]["region"]} == hashed


def _changed(inputs: dict, folder: Path, name: str, edit) -> dict:
    """A copy of the inputs with one file edited (a hospital-list frame or an insured dict)."""
    changed = dict(inputs)
    if name == "hospitals":
        frame = pd.read_csv(inputs["hospitals"], dtype=str, encoding="utf-8-sig")
        edit(frame)
        changed[name] = folder / "名单.csv"
        frame.to_csv(changed[name], index=False, encoding="utf-8-sig")
    else:
        data = yaml.safe_load(inputs["insured"].read_text("utf-8"))
        edit(data)
        changed[name] = folder / "insured.yaml"
        changed[name].write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return changed


def _set(frame, column, row, value):
    frame.loc[row, column] = value


BAD = {
    "unknown level in the hospital list": (
        "hospitals", lambda f: _set(f, "等级", 3, "四级"),
        ("名单.csv", "row 4 (line 5), column 等级 (level)", "unknown level '四级'",
         "primary, secondary or tertiary")),
    "a hospital of the cases missing from the list": (
        "hospitals", lambda f: _set(f, "医院编码", 5, "X9999"),
        ("结算清单.csv", "column hospital_id", "hospital 'P0006' is not in the hospital list",
         "every hospital of the cases in the hospital list")),
    "negative beds": (
        "hospitals", lambda f: _set(f, "床位数", 0, "-20"),
        ("row 1 (line 2), column 床位数 (beds)", "'-20'", "a whole number of beds ≥ 1")),
    "an insured file without the resident scheme": (
        "insured", lambda d: d.pop("居民"),
        ("insured.yaml, resident: missing scheme", "both employee and resident")),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input_is_one_line_and_writes_nothing(case, chinese_inputs, tmp_path, refused):
    name, edit, fragments = BAD[case]
    inputs = _changed(chinese_inputs, tmp_path, name, edit)
    before = tree(tmp_path)
    code = main(["region", "build", "--cases", str(inputs["cases"]), "--catalogue", CATALOGUE,
                 "--hospitals", str(inputs["hospitals"]), "--insured", str(inputs["insured"]),
                 "--out", str(tmp_path / "region.yaml")])
    refused(code, *fragments)
    assert tree(tmp_path) == before


def test_out_never_overwrites_an_input_or_a_file_drgsim_did_not_write(chinese_inputs, tmp_path,
                                                                      refused):
    arguments = ["region", "build", "--cases", str(chinese_inputs["cases"]), "--catalogue",
                 CATALOGUE, "--insured", str(chinese_inputs["insured"])]
    before = tree(chinese_inputs["folder"])
    refused(main(arguments + ["--out", str(chinese_inputs["insured"])]),
            "is the input file; drgsim never overwrites its inputs")
    assert tree(chinese_inputs["folder"]) == before
    mine = tmp_path / "mine.yaml"
    mine.write_text("title: my own notes\n", "utf-8")
    refused(main(arguments + ["--out", str(mine)]), "exists and was not written by drgsim")
    assert mine.read_text("utf-8") == "title: my own notes\n"
    (tmp_path / "r.hospitals.csv").write_text("my,own\n", "utf-8")
    refused(main(arguments + ["--out", str(tmp_path / "r.yaml")]), "its hospital table",
            "exists and was not written by drgsim")
    assert not (tmp_path / "r.yaml").exists()

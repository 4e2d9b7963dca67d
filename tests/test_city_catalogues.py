"""Every city table the project ships imports, and a small model runs on every imported catalogue.

The 23 tables in ``scenarios/catalogues/sources/`` are OpenDRG's (Apache-2.0, see the LICENSE and
README there). Each one but Yinchuan 2023 re-imports to exactly the catalogue and source card
shipped beside it; Yinchuan 2023 has standard scores (标准分值) and no weights and is refused
with the reason. Each table saved as GBK, as UTF-16 and as an Excel workbook imports to the same
catalogue as its UTF-8 original. ``drgsim run`` runs one small year on each catalogue
(``--catalogue``); ``drgsim compare`` on each is the slow variant.
"""

from __future__ import annotations

import csv
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.commands.cli import main
from sim.errors import InputError
from sim.experiments.compare import compare
from sim.inputs.catalogue import load_catalogue, validate_catalogue, write_catalogue
from sim.inputs.citytables import import_city_table, write_source_card
from sim.resources import shipped, shipped_names
from tests.test_citytables import write_xlsx

CATALOGUES = Path(__file__).resolve().parents[1] / "scenarios" / "catalogues"
SOURCES = sorted(p.stem for p in (CATALOGUES / "sources").glob("*.csv"))
REFUSED = {"yinchuan_2023": "only standard scores (标准分值) and no relative weight"}
IMPORTED = [name for name in SOURCES if name not in REFUSED]
SCALE = 0.01  # about 5,800 admissions a year in the default region


def test_all_23_tables_are_shipped_and_every_importable_one_is_imported():
    assert len(SOURCES) == 23
    assert shipped_names("catalogues", ".csv") == IMPORTED
    for name in REFUSED:
        assert not (CATALOGUES / f"{name}.csv").exists()


@pytest.mark.parametrize("name", IMPORTED)
def test_every_table_reimports_to_its_shipped_catalogue_and_card(name, tmp_path):
    source = CATALOGUES / "sources" / f"{name}.csv"
    table, report = import_city_table(source)
    shipped_table = load_catalogue(CATALOGUES / f"{name}.csv").table
    pd.testing.assert_frame_equal(validate_catalogue(table, name), shipped_table,
                                  check_exact=True)
    out = tmp_path / f"{name}.csv"
    write_catalogue(table, out)
    assert out.read_bytes() == (CATALOGUES / f"{name}.csv").read_bytes()
    card = write_source_card(report, source, out)
    assert card.read_text("utf-8") == (CATALOGUES / f"{name}.csv.source.yaml").read_text("utf-8")

    data = yaml.safe_load(card.read_text("utf-8"))
    assert data["source"] == {"file": source.name,
                              "sha256": hashlib.sha256(source.read_bytes()).hexdigest()}
    assert data["counts"]["groups"] == len(table) == report.groups
    assert data["counts"]["priced"] == int(table["weight"].notna().sum()) > 0
    assert set(data["unpriced_groups"]) == set(table.loc[table["weight"].isna(), "code"])
    assert (table.groupby("adrg")["severity_rank"].min() == 1).all()
    standards = [c for c in table.columns if c.startswith("payment_standard")]
    assert sorted(data.get("implied_base_rates", {"how": ""})) == sorted(standards + ["how"])


@pytest.mark.parametrize("name", IMPORTED)
def test_every_table_as_gbk_utf16_and_excel_imports_to_its_shipped_catalogue(name, tmp_path):
    source = CATALOGUES / "sources" / f"{name}.csv"
    text = source.read_text("utf-8-sig")
    copies = {"gbk": tmp_path / "gbk.csv", "utf-16": tmp_path / "utf16.csv"}
    copies["gbk"].write_bytes(text.encode("gbk"))
    copies["utf-16"].write_bytes(text.encode("utf-16"))
    # the table as a workbook with number cells where the CSV has plain numbers
    copies["xlsx"] = write_xlsx(tmp_path / "table.xlsx", list(csv.reader(text.splitlines())))
    original, report = import_city_table(source)
    for form, path in copies.items():
        table, other = import_city_table(path)
        pd.testing.assert_frame_equal(table, original, check_exact=True, obj=form)
        out = tmp_path / f"{form}.csv"
        write_catalogue(table, out)
        assert out.read_bytes() == (CATALOGUES / f"{name}.csv").read_bytes(), form
        assert other.counts() == report.counts(), form
        assert other.recognised_columns == report.recognised_columns, form
        assert dict(other.reading)["format"] == ("excel" if form == "xlsx" else "csv"), form


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_table_of_scores_only_is_refused_with_the_reason(name):
    with pytest.raises(InputError) as caught:
        import_city_table(CATALOGUES / "sources" / f"{name}.csv")
    assert REFUSED[name] in str(caught.value) and "\n" not in str(caught.value)


def test_implied_base_rates_are_the_known_city_rates():
    # data/README: payment standard ÷ RW is about ¥20,400 in Beijing, ¥9,100 in Jilin, ¥7,990
    # in Guangxi; Jilin publishes its rate (费率（三级） 9,080.56); Suzhou 2022 pays
    # rate × coefficient × weight with one rate for every level.
    def rates(name):
        card = yaml.safe_load((CATALOGUES / f"{name}.csv.source.yaml").read_text("utf-8"))
        return card["implied_base_rates"], card.get("published_rates", {})

    beijing, _ = rates("beijing_2022")
    assert 20_300 < beijing["payment_standard"]["median"] < 20_500
    jilin, published = rates("jilin_2022")
    assert jilin["payment_standard_tertiary"]["median"] == published["费率（三级）"]["median"]
    assert jilin["payment_standard_tertiary"]["within_1_percent"] == 1.0
    guangxi, _ = rates("guangxi_2022")
    assert guangxi["payment_standard"]["median"] == pytest.approx(7_990, abs=1)
    suzhou, _ = rates("suzhou_2022")
    per_coefficient = {level: suzhou[f"payment_standard_{level}"]["median_per_coefficient"]
                       for level in ("primary", "secondary", "tertiary")}
    assert len(set(per_coefficient.values())) == 1
    linyi, _ = rates("linyi_2022")
    assert set(linyi) == {"how", "payment_standard_secondary_employee",
                          "payment_standard_secondary_resident",
                          "payment_standard_tertiary_employee",
                          "payment_standard_tertiary_resident"}


def test_urumqi_keeps_the_dr13_of_its_family_and_says_so():
    table = load_catalogue(CATALOGUES / "urumqi_2022.csv").table.set_index("code")
    assert table.loc["DR13", "weight"] == 0.7128                 # head and neck malignancy
    assert table.loc["DR13", "name"].startswith("头、颈、耳、鼻、咽、口恶性肿瘤")
    card = yaml.safe_load((CATALOGUES / "urumqi_2022.csv.source.yaml").read_text("utf-8"))
    assert [(r["row"], r["code"]) for r in card["ignored_rows"]] == [(30, "DR13")]
    assert any(n.get("codes") == ["DR13"] for n in card["notes"])


def test_catalogues_with_more_than_three_ranks_are_shipped():
    widest = {name: int(load_catalogue(CATALOGUES / f"{name}.csv").table
                        .dropna(subset=["weight"]).groupby("adrg").size().max())
              for name in ("beijing_2022", "changzhou_2022", "lanzhou_2022")}
    assert widest == {"beijing_2022": 4, "changzhou_2022": 6, "lanzhou_2022": 6}


def test_readme_names_every_catalogue_source_and_licence():
    readme = (CATALOGUES / "README.md").read_text("utf-8")
    assert "164c3f6c" in readme and "Apache-2.0" in readme
    assert "Apache License" in (CATALOGUES / "LICENSE").read_text("utf-8")
    for name in SOURCES:
        assert f"`{name}" in readme, name


@pytest.mark.parametrize("name", IMPORTED)
def test_a_small_model_runs_on_every_catalogue(name, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--catalogue", name, "--years", "1", "--scale", str(SCALE),
                 "--no-charts", "--out", str(out)]) == 0, capsys.readouterr().err
    yearly = pd.read_csv(out / "yearly.csv")
    assert len(yearly) == 1 and yearly["admissions"].item() > 4_000
    assert np.isfinite(yearly[["true_cmi", "coded_cmi", "annual_point_value"]]).all(axis=None)
    assert 0.8 < yearly["true_cmi"].item() < 1.3           # the case mix is solved to CMI ≈ 1
    assert yearly["fund_drg_spending"].item() > 0
    record = json.loads((out / "run_record.json").read_text("utf-8"))
    assert record["parameters"]["catalogue"] == {
        "path": str(shipped("catalogues", name, ".csv")), "from": "--catalogue"}


@pytest.mark.slow
@pytest.mark.parametrize("name", IMPORTED)
def test_compare_runs_on_every_catalogue(name):
    _, summaries, _, meta = compare(
        "default", "point", [shipped("reforms", "audit_double", ".yaml")], replications=2,
        seed=3, years=2, start_year=2023, scale=SCALE, progress=False,
        executor=ThreadPoolExecutor(max_workers=1), catalogue=name)
    assert meta["catalogue"] == str(shipped("catalogues", name, ".csv"))
    yearly = summaries["comparison_yearly"].set_index(["year", "variable"])
    assert yearly.loc[(2024, "upcoded_share"), "difference_mean"] <= 0

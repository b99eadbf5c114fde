"""The submission room on a hand-made trial (``submission_trial``): ADaM values against a hand count,
the files read back by independent readers (pyreadstat for XPT, CDISC's JSON Schema for Dataset-JSON,
libxml2 with the Define-XML 2.1 XSDs for define.xml), and checks shown to fail on broken input."""
from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import dagster as dg
import duckdb
import jsonschema
import pandas as pd
import pyreadstat
import pytest

from mglt_pipeline.defs.submission import ASSETS, SUBMISSION_DIR
from mglt_pipeline.registry import OUTCOMES, PARAMCDS
from mglt_pipeline.resources import WAREHOUSE_FILE, build_resources
from mglt_pipeline.submission import checks, transport
from mglt_pipeline.submission.adam import derive_adsl
from mglt_pipeline.submission.define import define_xml
from mglt_pipeline.submission.profile import profile_xpt
from mglt_pipeline.submission.metadata import ADSL, BDS, DATASETS, DatasetSpec, Variable
from mglt_pipeline_tests import submission_trial as trial
from mglt_pipeline_tests.test_analysis_dagster import _upstream_assets

SCHEMA = Path(__file__).parent / "data" / "real" / "dataset_json" / "dataset.schema.json"
D = dt.date


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("submission")
    tables = {"participants": trial.participants(), "randomization": trial.randomization(),
              "analysis_dataset": trial.analysis_dataset(), "participant_adherence": trial.participant_adherence(),
              "diary_daily": trial.diary_daily()}
    adam_assets = [a for a in ASSETS if a.op.name != "rtf_tables"]
    result = dg.materialize([*_upstream_assets(tables), *adam_assets], resources=build_resources(root))
    assert result.success
    with duckdb.connect(str(root / WAREHOUSE_FILE), read_only=True) as con:
        warehouse = {spec.name: con.sql(f"select * from {spec.file_stem}").df() for spec in DATASETS}
    return root, result, warehouse


def test_every_check_passes_on_good_data(published):
    _, result, _ = published
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert len(evaluations) == 3 * len(DATASETS) + 1
    assert all(evaluations.values()), {k: v for k, v in evaluations.items() if not v}


def test_adsl_is_the_hand_count(published):
    _, _, warehouse = published
    adsl = warehouse["ADSL"].set_index("SUBJID")
    assert adsl.index.tolist() == ["P1", "P2", "P3", "P4"]
    assert adsl["USUBJID"].tolist() == ["MGLT01-P1", "MGLT01-P2", "MGLT01-P3", "MGLT01-P4"]
    columns = ["ARMCD", "ARM", "ACTARMCD", "ACTARM", "TRT01P", "TRT01A", "RANDFL", "SAFFL", "FASFL", "PPROTFL",
               "COMPLFL", "EOSSTT", "DCSREAS"]
    assert adsl.loc["P1", columns].tolist() == ["A", "placebo", "A", "placebo", "placebo", "placebo", "Y", "Y", "Y",
                                                "Y", "Y", "COMPLETED", ""]
    assert adsl.loc["P2", columns].tolist() == ["B", "MgT", "B", "MgT", "MgT", "MgT", "Y", "Y", "Y", "N", "N",
                                                "DISCONTINUED", "WITHDRAWAL BY SUBJECT"]
    assert adsl.loc["P3", columns].tolist() == ["A", "placebo", "NOTTRT", "Not Treated", "placebo", "", "Y", "N",
                                                "N", "N", "N", "DISCONTINUED", "WITHDRAWAL BY SUBJECT"]
    assert adsl.loc["P4", columns].tolist() == ["NOTASSGN", "Not Assigned", "NOTASSGN", "Not Assigned", "", "",
                                                "N", "N", "N", "N", "N", "DISCONTINUED", "WITHDRAWAL BY SUBJECT"]
    assert adsl.loc["P1", ["TRT01PN", "TRT01AN", "TRTDURD", "AGE", "WEARPCT"]].tolist() == [1, 1, 20, 40, 75]
    assert adsl.loc["P2", ["TRT01PN", "TRTDURD"]].tolist() == [2, 10]          # last dose Day 10
    assert math.isnan(adsl.loc["P3", "TRT01AN"]) and math.isnan(adsl.loc["P4", "TRT01PN"])
    dates = adsl[["RANDDT", "TRTSDT", "TRTEDT", "EOSDT"]].map(lambda v: None if pd.isna(v) else pd.Timestamp(v).date())
    assert dates.loc["P1"].tolist() == [D(2025, 1, 20), D(2025, 1, 30), D(2025, 2, 18), None]  # Day 20
    assert dates.loc["P2"].tolist() == [D(2025, 1, 20), D(2025, 1, 30), D(2025, 2, 8), D(2025, 2, 8)]
    assert dates.loc["P4"].tolist() == [None, None, None, D(2025, 1, 15)]


def test_bds_records_are_the_hand_count(published):
    _, _, warehouse = published
    sleep = warehouse["ADSLEEP"]
    n_params = sum(o.family == "oura_sleep" for o in OUTCOMES)
    assert len(sleep) == 3 * n_params * 4                          # P1-P3, baseline + 3 visits
    score = sleep.loc[sleep["PARAMCD"] == "SLPSCORE"].set_index(["USUBJID", "AVISITN"])
    p1 = score.loc["MGLT01-P1"]
    assert p1["AVISIT"].tolist() == ["Baseline", "Week 1", "Week 2", "Week 3"]
    assert p1["AVAL"].tolist() == [10, 11, 12, 13] and p1["BASE"].tolist() == [10] * 4
    assert math.isnan(p1["CHG"].iloc[0]) and p1["CHG"].tolist()[1:] == [1, 2, 3]
    assert p1["ABLFL"].tolist() == ["Y", "", "", ""] and p1["ANL01FL"].tolist() == ["", "Y", "Y", "Y"]
    assert p1["ANL02FL"].tolist() == ["", "Y", "Y", "Y"] and p1["AWLO"].tolist() == [-7, 1, 8, 15]
    p2 = score.loc["MGLT01-P2"]
    assert p2["ANL01FL"].tolist() == ["", "Y", "Y", ""]            # week 3 missing
    assert p2["ANL02FL"].tolist() == ["", "", "", ""] and p2["TRTP"].iloc[0] == "MgT"
    p3 = score.loc["MGLT01-P3"]
    assert p3["ABLFL"].tolist() == ["", "", "", ""] and p3["FASPFL"].tolist() == ["", "", "", ""]
    assert sleep["PARAM"].iloc[0] == "Sleep score (score 1-100)" and sleep["PARCAT1"].iloc[0] == "Oura sleep"
    isi = warehouse["ADQSSLP"].query("PARAMCD == 'ISITOT'")
    assert isi["AWLO"].isna().all()                               # questionnaires: REDCap events, no window


def test_paramcds_are_sas_names_one_to_one_with_outcomes():
    assert set(PARAMCDS) == {o.id for o in OUTCOMES}
    assert len(set(PARAMCDS.values())) == len(OUTCOMES)
    assert all(transport.SAS_NAME.match(code) for code in PARAMCDS.values())


def test_xpt_files_read_back_equal_the_warehouse(published):
    root, _, warehouse = published
    for spec in DATASETS:
        back, meta = pyreadstat.read_xport(str(root / SUBMISSION_DIR / f"{spec.file_stem}.xpt"))
        assert meta.table_name == spec.name and meta.file_label == spec.label
        assert meta.column_names_to_labels == {v.name: v.label for v in spec.variables}
        stored = warehouse[spec.name]
        for variable in spec.variables:
            ours, theirs = stored[variable.name], back[variable.name]
            if variable.data_type == "date":
                ours = ours.map(lambda v: None if pd.isna(v) else pd.Timestamp(v).date())
                theirs = theirs.map(lambda v: None if pd.isna(v) else v)
            pd.testing.assert_series_equal(ours.reset_index(drop=True), theirs.reset_index(drop=True),
                                           check_dtype=False, check_names=False, obj=f"{spec.name}.{variable.name}")


def test_dataset_json_files_follow_cdiscs_schema(published):
    root, _, warehouse = published
    schema = json.loads(SCHEMA.read_text())
    for spec in DATASETS:
        document = json.loads((root / SUBMISSION_DIR / f"{spec.file_stem}.json").read_text())
        jsonschema.validate(document, schema)
        assert document["records"] == len(warehouse[spec.name]) == len(document["rows"])
        assert [c["name"] for c in document["columns"]] == [v.name for v in spec.variables]
    adsl = json.loads((root / SUBMISSION_DIR / "adsl.json").read_text())
    first = dict(zip([c["name"] for c in adsl["columns"]], adsl["rows"][0]))
    assert (first["USUBJID"], first["TRTSDT"], first["AGE"], first["EOSDT"]) == ("MGLT01-P1", "2025-01-30", 40, None)


def test_define_xml_is_valid_and_names_every_dataset_variable_and_derivation(published):
    root, _, _ = published
    define = root / SUBMISSION_DIR / "define.xml"
    folder = root / SUBMISSION_DIR
    assert checks.schema_problems(define) == [] and checks.coverage_problems(define, folder) == []
    text = define.read_text()
    for outcome in OUTCOMES:
        assert f'OID="MT.{BDS[outcome.family].name}.AVAL.{outcome.paramcd}"' in text
        assert outcome.derivation.replace("&", "&amp;") in text
    assert "COM.BLINDED" not in text


def test_blinded_define_and_adsl_say_so():
    adsl = derive_adsl(trial.participants(), trial.randomization(blinded=True), trial.analysis_dataset(True),
                       trial.participant_adherence(), trial.diary_daily())
    assert set(adsl["TRT01P"]) == {"A", "B", ""}
    text = define_xml({"ADSL": adsl}, [ADSL], True, dt.datetime(2026, 1, 1)).decode()
    assert 'def:CommentOID="COM.BLINDED"' in text and "(blinded)" in text and "no treatment is named" in text


def test_checks_fail_on_broken_datasets(tmp_path):
    adsl = derive_adsl(trial.participants(), trial.randomization(), trial.analysis_dataset(),
                       trial.participant_adherence(), trial.diary_daily())
    path = transport.write_xpt(adsl, ADSL, tmp_path)
    changed = adsl.copy()
    changed.loc[1, "AGE"] = 41.000000001
    assert transport.xpt_differences(changed, ADSL, path) == ["AGE record 2: wrote 41.000000001, read 41.0"]
    long = DatasetSpec("ADSLLONGER", "x" * 41, "", "", ("USUBJID",),
                       (Variable("USUBJID9X", "y" * 41, "text", "Derived", ""),))
    problems = transport.limit_problems(pd.DataFrame({"USUBJID9X": ["z" * 201]}), long)
    assert len(problems) == 5  # dataset name, dataset label, variable name, variable label, 201-byte value
    spec = BDS["oura_sleep"]
    bds = pd.DataFrame({"STUDYID": "MGLT01", "USUBJID": ["MGLT01-P1", "MGLT01-P9", "MGLT01-P1"],
                        "PARAMCD": ["A", "A", "LONGCODE9"], "PARAM": ["a", "b", "c"], "AVISITN": [0, 0, 0]})
    assert len(checks.bds_problems(bds, adsl, spec)) == 3  # orphan, A paired twice, 9-character code
    assert checks.key_problems(pd.concat([adsl, adsl.head(1)]), ADSL) != []
    (tmp_path / "define.xml").write_bytes(define_xml({"ADSL": adsl.drop(columns="SUPPPCT")},
                                                     [DatasetSpec(**{**ADSL.__dict__, "variables": ADSL.variables[:-1]})],
                                                     False, dt.datetime(2026, 1, 1)))
    assert checks.coverage_problems(tmp_path / "define.xml", tmp_path) == [
        "ADSL: variables not described ['SUPPPCT'], described but absent []"]
    broken = (tmp_path / "define.xml").read_text().replace('Mandatory="Yes"', 'Mandatory="Maybe"', 1)
    (tmp_path / "broken.xml").write_text(broken)
    assert any("Mandatory" in p for p in checks.schema_problems(tmp_path / "broken.xml"))


def test_define_xml_from_batched_profiles_equals_define_xml_from_whole_datasets(published):
    root, _, _ = published
    folder = root / SUBMISSION_DIR
    whole = {spec.name: pyreadstat.read_xport(str(folder / f"{spec.file_stem}.xpt"))[0] for spec in DATASETS}
    profiles = {spec.name: profile_xpt(folder / f"{spec.file_stem}.xpt", spec, batch_rows=25) for spec in DATASETS}
    assert sum(map(len, profiles.values())) < sum(map(len, whole.values()))
    created = dt.datetime(2026, 1, 1)
    assert define_xml(profiles, list(DATASETS), False, created) == define_xml(whole, list(DATASETS), False, created)

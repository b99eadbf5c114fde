"""``scripts/effects_markdown.py``: the README's effects table, numbers written as the report writes them."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import duckdb
import pandas as pd

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "effects_markdown.py"
NAN = float("nan")


def effects_markdown(root: Path) -> str:
    spec = importlib.util.spec_from_file_location("effects_markdown", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.effects_markdown(root)


def test_rows_as_the_report_writes_them(tmp_path):
    effects = pd.DataFrame([
        # Satterthwaite df 75.6, p below 0.001, an estimate that rounds to -0.00
        {"outcome": "isi_total", "family": "sleep_questionnaires", "better": "lower", "estimate": -0.004,
         "ci_low": -1.2345, "ci_high": 1.2, "df": 75.6, "df_method": "satterthwaite", "p_value": 0.0004,
         "p_adj": 0.0123, "hedges_g": -0.001, "improved": False, "converged": True, "message": "converged"},
        # normal approximation: no df
        {"outcome": "lseq_gts", "family": "sleep_questionnaires", "better": "higher", "estimate": 2.5,
         "ci_low": 0.5, "ci_high": 4.5, "df": NAN, "df_method": "normal", "p_value": 0.014, "p_adj": 0.028,
         "hedges_g": 0.31, "improved": True, "converged": True, "message": "converged"},
        {"outcome": "rsq_total", "family": "sleep_questionnaires", "better": "higher", "estimate": NAN,
         "ci_low": NAN, "ci_high": NAN, "df": NAN, "df_method": "satterthwaite", "p_value": NAN, "p_adj": NAN,
         "hedges_g": NAN, "improved": False, "converged": False, "message": "not fitted: no FAS rows"},
    ])
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.register("frame", effects)
        con.execute("create table treatment_effects as select * from frame")
    (tmp_path / "truth.json").write_text(json.dumps({"effects": {"week_3": {
        "isi_total": 0, "lseq_gts": 2.5, "rsq_total": 0}}}))
    lines = effects_markdown(tmp_path).splitlines()
    assert lines[2] == ("| ISI total | sleep_questionnaires | lower | 0.00 (-1.23 to 1.20) | 76 | <0.001 | 0.012 "
                        "| 0.00 | no | 0 |")
    assert lines[3] == ("| LSEQ getting to sleep | sleep_questionnaires | higher | 2.50 (0.50 to 4.50) | n/a | 0.014 "
                        "| 0.028 | 0.31 | yes | 2.5 |")
    assert lines[4] == "| RSQ-W total | sleep_questionnaires | higher | not fitted: no FAS rows | | | | | | 0 |"

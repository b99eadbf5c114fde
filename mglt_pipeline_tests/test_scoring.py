"""Scoring against hand-worked answer sheets (INSTRUMENTS.md rules, arithmetic in the comments)."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from mglt_pipeline.scoring.instruments import INSTRUMENTS, ISI, LSEQ, POMS, POMS_SUBSCALE_ITEMS, RSQ
from mglt_pipeline.scoring.score import band, score_instrument
from mglt_pipeline.scoring.summary import missing_scores, out_of_range, score_distribution
from mglt_pipeline_tests.scoring_fixtures import poms_answers, sheet, sheets

_ = None  # a blank item


def one_row(instrument, answers) -> pd.Series:
    scored = score_instrument(sheet(instrument.name, answers), instrument)
    assert len(scored) == 1
    return scored.iloc[0]


# ---------------------------------------------------------------- ISI
@pytest.mark.parametrize("answers, total, category", [
    ([4, 3, 2, 1, 0, 3, 4], 17.0, "moderate"),      # 4+3+2+1+0+3+4 = 17
    ([0] * 7, 0.0, "none"),                          # minimum
    ([4] * 7, 28.0, "severe"),                       # 7 x 4 = 28, maximum
    ([1] * 7, 7.0, "none"),                          # 7: top of none
    ([2, 1, 1, 1, 1, 1, 1], 8.0, "subthreshold"),    # 2+6 = 8
    ([2] * 7, 14.0, "subthreshold"),                 # 14: top of subthreshold
    ([3, 2, 2, 2, 2, 2, 2], 15.0, "moderate"),       # 3+12 = 15
    ([3] * 7, 21.0, "moderate"),                     # 21: top of moderate
    ([4, 3, 3, 3, 3, 3, 3], 22.0, "severe"),         # 4+18 = 22
])
def test_isi_sum_and_category_boundaries(answers, total, category):
    row = one_row(ISI, answers)
    assert row["isi_total"] == total
    assert row["isi_category"] == category
    assert row["isi_total_n_answered"] == 7


@pytest.mark.parametrize("answers, total, category", [
    ([4, 3, 2, 1, 0, 3, _], 91 / 6, "moderate"),     # (4+3+2+1+0+3)/6 x 7 = 13 x 7/6 = 15.1667
    ([1, 1, 1, 1, 1, 1, _], 7.0, "none"),            # 6/6 x 7 = 7
    ([2, 1, 1, 1, 1, 1, _], 49 / 6, "subthreshold"), # 7/6 x 7 = 8.1667
    ([_, 2, 2, 2, 2, 2, 2], 14.0, "subthreshold"),   # 12/6 x 7 = 14
    ([_, 3, 2, 2, 2, 2, 2], 91 / 6, "moderate"),     # 13/6 x 7 = 15.1667
    ([3, 3, 3, _, 3, 3, 3], 21.0, "moderate"),       # 18/6 x 7 = 21
    ([4, 3, 3, _, 3, 3, 3], 133 / 6, "severe"),      # 19/6 x 7 = 22.1667
])
def test_isi_prorated_with_six_of_seven(answers, total, category):
    row = one_row(ISI, answers)
    assert row["isi_total"] == pytest.approx(total)
    assert row["isi_category"] == category
    assert row["isi_total_n_answered"] == 6


def test_isi_missing_with_five_of_seven():
    row = one_row(ISI, [4, 3, 2, 1, _, _, 4])
    assert math.isnan(row["isi_total"])
    assert row["isi_category"] is None
    assert row["isi_total_n_answered"] == 5


def test_isi_bands_of_non_integer_totals():
    # project rule: none <= 7 < subthreshold <= 14 < moderate <= 21 < severe
    totals = pd.Series([7.0, 7.5, 7.99, 14.0, 14.5, 21.0, 21.5, float("nan")])
    labels = band(totals, ISI.bands[0]).tolist()
    assert labels == ["none", "subthreshold", "subthreshold", "subthreshold", "moderate",
                      "moderate", "severe", None]


# ---------------------------------------------------------------- LSEQ
def test_lseq_domain_means_with_decimals():
    row = one_row(LSEQ, [12.5, 40.0, 73.3, 55.5, 60.25, 0.0, 100.0, 33.3, 66.6, _])
    assert row["lseq_gts"] == pytest.approx(41.933333333)  # (12.5+40+73.3)/3 = 125.8/3
    assert row["lseq_qos"] == pytest.approx(57.875)        # (55.5+60.25)/2 = 115.75/2
    assert row["lseq_afs"] == pytest.approx(50.0)          # (0+100)/2
    assert row["lseq_bfw"] == pytest.approx(49.95)         # 2 of 3 answered: (33.3+66.6)/2
    assert [row[f"{d}_n_answered"] for d in ("lseq_gts", "lseq_qos", "lseq_afs", "lseq_bfw")] == [3, 2, 2, 2]


def test_lseq_one_beyond_the_missing_limit():
    row = one_row(LSEQ, [_, 20.0, _, 55.0, _, 61.0, 70.0, _, _, _])
    assert math.isnan(row["lseq_gts"]) and row["lseq_gts_n_answered"] == 1  # 1 of 3
    assert math.isnan(row["lseq_qos"]) and row["lseq_qos_n_answered"] == 1  # 1 of 2
    assert row["lseq_afs"] == pytest.approx(65.5)                            # (61+70)/2
    assert math.isnan(row["lseq_bfw"]) and row["lseq_bfw_n_answered"] == 0


@pytest.mark.parametrize("mark", [0.0, 100.0])
def test_lseq_extremes(mark):
    row = one_row(LSEQ, [mark] * 10)
    assert [row[d] for d in ("lseq_gts", "lseq_qos", "lseq_afs", "lseq_bfw")] == [mark] * 4


# ---------------------------------------------------------------- RSQ-W
@pytest.mark.parametrize("answers, total, n", [
    ([4, 3, 5, 2, 4, 3, 2, 1, 5], 550 / 9, 9),  # 7-9 -> 6-x: 4,5,1; sum 21+10 = 31; (31/9-1) x 25 = 61.11
    ([1] * 9, 100 / 3, 9),                       # 6 x 1 + 3 x (6-1) = 21; (21/9-1) x 25 = 33.33
    ([1] * 6 + [5] * 3, 0.0, 9),                 # reversed 5 -> 1: mean 1 -> 0, minimum
    ([5] * 6 + [1] * 3, 100.0, 9),               # reversed 1 -> 5: mean 5 -> 100, maximum
    ([2, 3, 4, 5, _, _, _, _, 2], 65.0, 5),      # 5 answered, 9 -> 6-2 = 4: (18/5-1) x 25 = 2.6 x 25
])
def test_rsq_total(answers, total, n):
    row = one_row(RSQ, answers)
    assert row["rsq_total"] == pytest.approx(total)
    assert row["rsq_total_n_answered"] == n


def test_rsq_missing_with_four_answered():
    row = one_row(RSQ, [2, 3, 4, 5, _, _, _, _, _])
    assert math.isnan(row["rsq_total"])
    assert row["rsq_total_n_answered"] == 4


# ---------------------------------------------------------------- POMS
POMS_COLUMNS = ("poms_ta", "poms_dd", "poms_ah", "poms_fi", "poms_cb", "poms_va", "poms_fr", "poms_tmd")
VA_ITEMS = (7, 15, 19, 38, 51, 56, 60, 63)


def poms_scores(answers) -> dict[str, float]:
    row = one_row(POMS, answers)
    return {c: row[c] for c in POMS_COLUMNS}


def test_poms_item_map_covers_every_item_once():
    items = [i for scale in POMS.scales for i in scale.items]
    assert sorted(items) == list(range(1, 66))
    assert sum(len(v) for v in POMS_SUBSCALE_ITEMS.values()) == 65


def test_poms_all_zero_shows_reversed_items():
    # 22 (TA) and 54 (CB) become 4-0 = 4; everything else 0. TMD = 4 + 4 = 8
    assert poms_scores(poms_answers(0)) == dict(
        poms_ta=4.0, poms_dd=0.0, poms_ah=0.0, poms_fi=0.0, poms_cb=4.0, poms_va=0.0, poms_fr=0.0, poms_tmd=8.0)


def test_poms_all_four_shows_reversed_items():
    # TA 8x4 + (4-4) = 32, CB 6x4 + 0 = 24; TMD = 32+60+48+28+24-32 = 160
    assert poms_scores(poms_answers(4)) == dict(
        poms_ta=32.0, poms_dd=60.0, poms_ah=48.0, poms_fi=28.0, poms_cb=24.0, poms_va=32.0, poms_fr=28.0,
        poms_tmd=160.0)


def test_poms_tmd_minimum():
    # all 0, VA items 4, 22 and 54 answered 4 (-> 0): TMD = 0 - 8x4 = -32
    answers = poms_answers(0, i22=4, i54=4, **{f"i{i}": 4 for i in VA_ITEMS})
    assert poms_scores(answers) == dict(
        poms_ta=0.0, poms_dd=0.0, poms_ah=0.0, poms_fi=0.0, poms_cb=0.0, poms_va=32.0, poms_fr=0.0, poms_tmd=-32.0)


def test_poms_tmd_maximum():
    # all 4, VA items 0, 22 and 54 answered 0 (-> 4): TA 36, CB 28; TMD = 36+60+48+28+28-0 = 200
    answers = poms_answers(4, i22=0, i54=0, **{f"i{i}": 0 for i in VA_ITEMS})
    assert poms_scores(answers) == dict(
        poms_ta=36.0, poms_dd=60.0, poms_ah=48.0, poms_fi=28.0, poms_cb=28.0, poms_va=0.0, poms_fr=28.0,
        poms_tmd=200.0)


def test_poms_prorated_subscales_and_tmd():
    # TA: 2->1 10->2 16->3 20->0 22->1 (4-1=3) 26->4 27->2 34->2 41 blank: 17 over 8 items, x 9 = 19.125
    # DD: 5,9,14,18,21,23,32,35,36,44,45,48 = 0,1,2,3,4,0,1,2,3,4,0,1 (21), 58 61 62 blank: 21/12 x 15 = 26.25
    # rest 1: AH 12, FI 7, CB 6x1 + (4-1) = 9, VA 8, FR 7; TMD = 19.125+26.25+12+7+9-8 = 65.375
    dd = dict(zip((5, 9, 14, 18, 21, 23, 32, 35, 36, 44, 45, 48), (0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1)))
    answers = poms_answers(1, i2=1, i10=2, i16=3, i20=0, i22=1, i26=4, i27=2, i34=2, i41=None,
                           i58=None, i61=None, i62=None, **{f"i{k}": v for k, v in dd.items()})
    row = one_row(POMS, answers)
    assert row["poms_ta"] == pytest.approx(19.125) and row["poms_ta_n_answered"] == 8
    assert row["poms_dd"] == pytest.approx(26.25) and row["poms_dd_n_answered"] == 12
    assert row["poms_cb"] == 9.0
    assert row["poms_tmd"] == pytest.approx(65.375) and row["poms_tmd_n_subscales"] == 6


@pytest.mark.parametrize("score, items, at_limit", [
    ("poms_ta", (2, 10, 16, 20, 22, 26, 27, 34, 41), 18.0),                  # 8 x 2 / 8 x 9
    ("poms_dd", (5, 9, 14, 18, 21, 23, 32, 35, 36, 44, 45, 48, 58, 61, 62), 30.0),  # 2 x 15
    ("poms_ah", (3, 12, 17, 24, 31, 33, 39, 42, 47, 52, 53, 57), 24.0),      # 2 x 12
    ("poms_va", VA_ITEMS, 16.0),                                             # 2 x 8
    ("poms_fi", (4, 11, 29, 40, 46, 49, 65), 14.0),                          # 2 x 7
    ("poms_cb", (8, 28, 37, 50, 54, 59, 64), 14.0),                          # 2 x 7 (54: 4-2 = 2)
    ("poms_fr", (1, 6, 13, 25, 30, 43, 55), 14.0),                           # 2 x 7
])
def test_poms_twenty_percent_missing_rule(score, items, at_limit):
    allowed = {"poms_ta": 1, "poms_dd": 3, "poms_ah": 2, "poms_va": 1, "poms_fi": 1, "poms_cb": 1, "poms_fr": 1}[score]
    blank_at_limit = {f"i{i}": None for i in items[-allowed:]}
    row = one_row(POMS, poms_answers(2, **blank_at_limit))
    assert row[score] == at_limit and row[f"{score}_n_answered"] == len(items) - allowed

    blank_beyond = {f"i{i}": None for i in items[-(allowed + 1):]}
    row = one_row(POMS, poms_answers(2, **blank_beyond))
    assert math.isnan(row[score]) and row[f"{score}_n_answered"] == len(items) - allowed - 1
    if score == "poms_fr":  # friendliness is not part of TMD
        assert row["poms_tmd"] == 84.0 and row["poms_tmd_n_subscales"] == 6  # 18+30+24+14+14-16 = 84
    else:
        assert math.isnan(row["poms_tmd"]) and row["poms_tmd_n_subscales"] == 5


# ---------------------------------------------------------------- table shape
def test_rows_per_participant_and_visit():
    items = sheets(
        sheet("isi", [1] * 7, "P002", "week_3"),
        sheet("isi", [2] * 7, "P001", "week_1"),
        sheet("isi", [_] * 7, "P001", "baseline"),  # every item blank: a row with a missing score
        sheet("lseq", [50.0] * 10, "P001", "baseline"),  # P002 has no LSEQ: no LSEQ row
    )
    isi = score_instrument(items, ISI)
    assert list(isi.columns) == ["participant_id", "visit", "visit_num", "isi_total", "isi_total_n_answered",
                                 "isi_category"]
    assert list(zip(isi["participant_id"], isi["visit"], isi["visit_num"])) == [
        ("P001", "baseline", 0), ("P001", "week_1", 1), ("P002", "week_3", 3)]
    assert math.isnan(isi["isi_total"][0]) and isi["isi_total_n_answered"][0] == 0
    assert isi["isi_total"].tolist()[1:] == [14.0, 7.0]
    lseq = score_instrument(items, LSEQ)
    assert lseq["participant_id"].tolist() == ["P001"]
    assert score_instrument(items, RSQ).empty


def test_absent_item_rows_count_as_unanswered():
    row = one_row(ISI, {1: 4, 2: 3, 3: 2, 4: 1, 5: 0, 6: 3})  # no row for item 7: 13/6 x 7
    assert row["isi_total"] == pytest.approx(91 / 6) and row["isi_total_n_answered"] == 6


def test_contract_breaches_raise():
    twice = sheets(sheet("isi", [1] * 7), sheet("isi", {3: 2}))
    with pytest.raises(ValueError, match="duplicated"):
        score_instrument(twice, ISI)
    with pytest.raises(ValueError, match="outside 1..9"):
        score_instrument(sheet("rsq", {10: 3}), RSQ)


# ---------------------------------------------------------------- summaries
def test_summaries_of_a_scores_table():
    scores = score_instrument(sheets(
        sheet("isi", [4, 3, 2, 1, 0, 3, 4], "P001"), sheet("isi", [1] * 7, "P002"),
        sheet("isi", [0] * 7, "P003"), sheet("isi", [_] * 7, "P004")), ISI)
    dist = score_distribution(scores, ISI).set_index("score").loc["isi_total"]
    # totals 17, 7, 0: mean 8, SD sqrt((81 + 1 + 64) / 2) = sqrt(73)
    assert dist["n"] == 3 and dist["mean"] == pytest.approx(8.0)
    assert dist["sd"] == pytest.approx(73 ** 0.5) and (dist["min"], dist["max"]) == (0.0, 17.0)
    assert missing_scores(scores, ISI) == {"isi_total": 1}


def test_out_of_range_counts_each_score():
    table = pd.DataFrame({"poms_ta": [0.0, 36.0, 36.5], "poms_dd": [-0.1, 60.0, float("nan")],
                          "poms_ah": 0.0, "poms_fi": 0.0, "poms_cb": 0.0, "poms_va": 0.0, "poms_fr": 29.0,
                          "poms_tmd": [-32.0, 200.0, 200.5]})
    assert out_of_range(table, POMS) == dict(poms_ta=1, poms_dd=1, poms_ah=0, poms_fi=0, poms_cb=0, poms_va=0,
                                             poms_fr=3, poms_tmd=1)


def test_every_registry_outcome_is_scored():
    from mglt_pipeline.registry import outcomes_from

    for instrument in INSTRUMENTS:
        analysed = {o.id for o in outcomes_from(instrument.asset_name)}
        # POMS friendliness is scored but is neither in TMD nor an SAP outcome
        assert set(instrument.score_columns) - analysed == ({"poms_fr"} if instrument is POMS else set())
        assert analysed <= set(instrument.score_columns)

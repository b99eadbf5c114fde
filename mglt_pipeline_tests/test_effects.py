"""Treatment effects: the primary model against R and statsmodels, planted effects, effect size,
multiplicity, blinded labels and every way a model can fail (SAP "Primary model" .. "Blinded mode")."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as scipy_stats
from numpy.testing import assert_allclose
from statsmodels.stats.multitest import multipletests

from mglt_pipeline.effects.effect_size import hedges_g
from mglt_pipeline.effects.multiplicity import benjamini_hochberg, improved
from mglt_pipeline.arms import ArmLabels, arm_labels
from mglt_pipeline.effects.estimates import t_estimate
from mglt_pipeline.effects.primary import fit_primary, model_rows, sap_design
from mglt_pipeline.visits import POST_BASELINE_VISITS as VISITS
from mglt_pipeline.effects.sensitivity import ancova_completers
from mglt_pipeline.effects.simulate import simulate_analysis_dataset
from mglt_pipeline.effects.tables import effect_table, treatment_effects_table

UNBLINDED = ArmLabels("placebo", "MgT", blinded=False)

# Two small trials (participant, arm, base, week_1, week_2, week_3); None = missing aval.
INTERIOR = [
    ("P01", "MgT", 51.3, 51.7, 57.7, 54.1), ("P02", "placebo", 48.7, None, 53.5, 51.5),
    ("P03", "MgT", 56.4, 51.3, 52.3, 56.1), ("P04", "placebo", 51.0, None, 48.9, 51.8),
    ("P05", "MgT", 44.6, None, 50.7, 52.2), ("P06", "placebo", 53.6, 53.5, 51.0, 53.0),
    ("P07", "placebo", 63.0, 60.6, 63.3, 55.5), ("P08", "MgT", 59.5, 61.9, 62.9, 63.7),
    ("P09", "placebo", 43.0, 48.0, 46.7, 52.6), ("P10", "MgT", 37.3, 51.3, 52.4, 53.4),
]
BOUNDARY = [  # the REML estimate of sigma_b is 0 here
    ("P01", "placebo", 53.5, 53.1, 52.8, 58.0), ("P02", "MgT", 58.2, 60.5, None, 55.8),
    ("P03", "placebo", 53.3, 51.7, 51.5, 53.9), ("P04", "MgT", 37.0, 44.7, None, 44.7),
    ("P05", "MgT", 59.1, 55.8, 64.6, 62.9), ("P06", "MgT", 54.5, 57.3, 55.2, 54.3),
    ("P07", "placebo", 44.6, 48.3, 48.6, 45.1), ("P08", "placebo", 55.8, 52.1, 54.5, 52.4),
    ("P09", "placebo", 53.6, None, 53.2, 53.5), ("P10", "MgT", 52.9, 52.0, 56.8, 60.2),
]

# R 4.x, lme4 1.1-31, lmerTest 3.1-3, emmeans 1.8.4-1, on the rows above (scripts/lmer_reference.R):
#   d$base_c <- d$base - mean(d$base)   # over the rows with non-missing aval
#   d$visit <- factor(d$visit, c("week_1", "week_2", "week_3")); d$arm <- factor(d$arm, c("placebo", "MgT"))
#   m <- lmerTest::lmer(aval ~ base_c + visit + arm + visit:arm + (1 | participant_id), d, REML = TRUE,
#          control = lmerControl(optimizer = "nloptwrap", optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14)))
#   emm <- emmeans(m, ~ arm | visit, lmer.df = "satterthwaite")
#   contrast(emm, method = list(c(-1, 1)))             # estimate, SE, df, p by visit
#   summary(emm)                                      # week_3 means and 95% CIs
#   contestMD(m, L)   # L picks visitweek_2:armMgT and visitweek_3:armMgT: F, DenDF, p
R_CONTRASTS = {  # (visit): estimate, SE, Satterthwaite df, p
    "interior": {"week_1": (0.810746072976, 2.54683110675, 16.4281745144, 0.75424183315),
                 "week_2": (3.39321850597, 2.24340332421, 12.9079476376, 0.154490944902),
                 "week_3": (3.89321850597, 2.24340332421, 12.907947638, 0.106462478274)},
    "boundary": {"week_1": (2.40777926343, 1.75473550411, 19.9999999995, 0.185208809925),
                 "week_2": (4.56811618491, 1.932037524, 19.9999999997, 0.0282857929797),
                 "week_3": (2.88259308781, 1.65385114294, 19.9999999995, 0.0966963922645)},
}
R_MODEL = {  # interaction F, DenDF, p; sigma_b, sigma_e; week_3 means (placebo, CI, MgT, CI)
    "interior": ((0.830506872316, 13.7659720948, 0.456530501846), (2.55393222336, 2.42782205898),
                 (52.57370767, 49.1633203065, 55.9840950336, 56.466926176, 53.0413715413, 59.8924808107)),
    "boundary": ((0.372511935875, 19.9999999996, 0.693682226981), (0.0, 2.6148486701),
                 (52.830757973, 50.3904232856, 55.2710926603, 55.7133510608, 53.2737461761, 58.1529559455)),
}


def small_trial(table, outcome: str = "isi_total") -> pd.DataFrame:
    rows = [{"participant_id": pid, "arm": arm, "outcome": outcome, "visit": visit, "visit_num": k + 1,
             "aval": np.nan if value is None else value, "base": base, "fas": True, "pp": True}
            for pid, arm, base, *values in table for k, (visit, value) in enumerate(zip(VISITS, values))]
    frame = pd.DataFrame(rows)
    return frame.assign(chg=frame["aval"] - frame["base"])


@pytest.mark.parametrize("name, table", [("interior", INTERIOR), ("boundary", BOUNDARY)])
def test_contrasts_means_and_df_match_lmertest_and_emmeans(name, table):
    effects = effect_table(small_trial(table), "isi_total", UNBLINDED).set_index("visit")
    for visit, (estimate, se, df, p) in R_CONTRASTS[name].items():
        row = effects.loc[visit]
        assert_allclose([row["estimate"], row["se"]], [estimate, se], rtol=1e-7)
        assert_allclose([row["df"], row["p_value"]], [df, p], rtol=1e-6)
        assert row["df_method"] == "satterthwaite"
    (f, ddf, interaction_p), (sigma_b, sigma_e), means = R_MODEL[name]
    week_3 = effects.loc["week_3"]
    assert_allclose(week_3["interaction_p"], interaction_p, rtol=1e-6)
    assert_allclose([week_3["sigma_b"], week_3["sigma_e"]], [sigma_b, sigma_e], rtol=1e-7, atol=1e-10)
    ours = week_3[["mean_placebo", "mean_placebo_ci_low", "mean_placebo_ci_high",
                   "mean_active", "mean_active_ci_low", "mean_active_ci_high"]].to_numpy(float)
    assert_allclose(ours, means, rtol=1e-7)
    model = fit_primary(small_trial(table), UNBLINDED)
    assert model.design.term_columns("C(visit):arm") == [5, 6]
    f_ours, ndf, ddf_ours = model.inference.wald_f(np.eye(7)[5:7])
    assert ndf == 2
    assert_allclose([f_ours, ddf_ours], [f, ddf], rtol=1e-6)


def test_boundary_fit_is_converged_with_sigma_b_zero():
    week_3 = effect_table(small_trial(BOUNDARY), "isi_total", UNBLINDED).iloc[2]
    assert week_3["converged"] and week_3["sigma_b"] == 0.0
    assert "sigma_b = 0" in week_3["message"]


def test_week_3_contrast_is_arm_plus_week_3_by_arm():
    model = fit_primary(simulate_analysis_dataset(effect_by_visit=(1.0, 2.0, 3.0), seed=4), UNBLINDED)
    fit = model.fit
    L = np.array([0, 0, 0, 0, 1, 0, 1], dtype=float)
    contrast = model.contrast("week_3")
    assert_allclose(contrast.estimate, fit.beta[4] + fit.beta[6], rtol=1e-12)
    assert_allclose(contrast.se, np.sqrt(L @ fit.cov_beta @ L), rtol=1e-12)
    mean_difference = model.adjusted_mean("week_3", True).estimate - model.adjusted_mean("week_3", False).estimate
    assert_allclose(mean_difference, contrast.estimate, rtol=1e-10)
    assert_allclose(model.contrast("week_1").estimate, fit.beta[4], rtol=1e-12)


def test_without_satterthwaite_df_the_normal_approximation_is_named_as_the_report_names_it():
    from mglt_pipeline.report.tables import DF_METHODS

    # estimate 2, SE 1: z = 2, two-sided p = 2 (1 - Phi(2)) = 0.0455003; CI 2 -/+ 1.959964 (R: pnorm, qnorm)
    normal = t_estimate(2.0, 1.0, float("nan"))
    assert normal.df_method == "normal" and DF_METHODS[normal.df_method] == "normal approximation"
    assert np.isnan(normal.df)
    assert_allclose([normal.ci_low, normal.ci_high, normal.p_value], [0.0400360, 3.9599640, 0.0455003], atol=1e-6)
    # with df = 10: t(0.975, 10) = 2.228139, p = 0.0733880 (two-sided; R: qt, pt)
    t = t_estimate(2.0, 1.0, 10.0)
    assert t.df_method == "satterthwaite" and DF_METHODS[t.df_method] == "Satterthwaite"
    assert_allclose([t.ci_low, t.ci_high, t.p_value], [-0.228139, 4.228139, 0.0733880], atol=1e-6)


def test_fit_equals_statsmodels_mixedlm_reml():
    rows = simulate_analysis_dataset(effect_by_visit=(0.5, 1.0, 2.0), seed=7)
    data = model_rows(rows, UNBLINDED)
    X, y, groups = sap_design(data, UNBLINDED).rows(data), data["aval"].to_numpy(), data["participant_id"].to_numpy()
    ours = fit_primary(rows, UNBLINDED).fit
    reference = sm.MixedLM(y, X, groups=groups).fit(reml=True, method="bfgs", gtol=1e-10)
    assert_allclose(ours.beta, reference.fe_params, rtol=1e-6)
    sigma2_b = float(np.asarray(reference.cov_re)[0, 0])
    assert_allclose([ours.sigma2_b, ours.sigma2_e], [sigma2_b, reference.scale], rtol=1e-5)
    # cov(beta) = (X' V^-1 X)^-1 at statsmodels' variance estimates, by dense algebra
    Z = (groups[:, None] == np.unique(groups)[None, :]).astype(float)
    V = reference.scale * np.eye(len(y)) + sigma2_b * Z @ Z.T
    reference_se = np.sqrt(np.diag(np.linalg.inv(X.T @ np.linalg.solve(V, X))))
    assert_allclose(np.sqrt(np.diag(ours.cov_beta)), reference_se, rtol=1e-5)
    # statsmodels' own bse_fe inverts the full observed information (beta x variance cross terms
    # included), not (X'V^-1 X)^-1 as lme4/lmerTest/SAS do: close, but only to ~1e-3.
    assert_allclose(np.sqrt(np.diag(ours.cov_beta)), reference.bse_fe, rtol=3e-3)


@pytest.mark.parametrize("seed", [12, 14])
def test_recovers_planted_effects(seed):
    truth = (1.0, 2.0, 4.0)
    effects = effect_table(simulate_analysis_dataset(effect_by_visit=truth, seed=seed), "simulated_outcome",
                           UNBLINDED)
    assert ((effects["ci_low"] < truth) & (truth < effects["ci_high"])).all()
    week_3 = effects.iloc[2]
    assert week_3["p_value"] < 0.05 and week_3["converged"]
    assert week_3["n_active"] == 40 and week_3["n_placebo"] == 40


def test_null_outcome_is_not_significant():
    week_3 = effect_table(simulate_analysis_dataset(effect_by_visit=(0, 0, 0), seed=5), "simulated_outcome",
                          UNBLINDED).iloc[2]
    assert week_3["ci_low"] < 0 < week_3["ci_high"] and week_3["p_value"] >= 0.05


def test_hedges_g_by_hand():
    # base: MgT 10, 12, 14 (SD^2 4), placebo 11, 13, 18 (SD^2 13); P7 is not in the FAS.
    bases = [("P1", "MgT", 10), ("P2", "MgT", 12), ("P3", "MgT", 14), ("P4", "placebo", 11),
             ("P5", "placebo", 13), ("P6", "placebo", 18), ("P7", "placebo", 99)]
    rows = pd.DataFrame([{"participant_id": p, "arm": a, "base": float(b), "visit": v, "fas": p != "P7"}
                         for p, a, b in bases for v in VISITS])
    g = hedges_g(2.0, 1.0, 3.0, rows, UNBLINDED)
    # pooled SD = sqrt((2*4 + 2*13) / 4) = sqrt(8.5); J = 1 - 3 / (4*6 - 9) = 0.8
    assert_allclose(g.pooled_sd, np.sqrt(8.5))
    assert_allclose(g.correction, 0.8)
    assert_allclose([g.g, g.ci_low, g.ci_high], [1.6 / np.sqrt(8.5), 0.8 / np.sqrt(8.5), 2.4 / np.sqrt(8.5)])


def test_hedges_g_of_the_week_3_row_scales_its_estimate_by_the_fas_baselines():
    rows = simulate_analysis_dataset(effect_by_visit=(0, 0, 4.0), seed=10, missing_rate=0.5)
    week_3 = effect_table(rows, "simulated_outcome", UNBLINDED).iloc[2]
    fas = rows.loc[rows["fas"]].drop_duplicates("participant_id")
    assert fas["participant_id"].nunique() < rows["participant_id"].nunique()  # some fall out of the FAS
    active, placebo = (fas.loc[fas["arm"] == arm, "base"].to_numpy() for arm in ("MgT", "placebo"))
    n1, n2 = len(active), len(placebo)
    pooled_sd = np.sqrt(((n1 - 1) * active.var(ddof=1) + (n2 - 1) * placebo.var(ddof=1)) / (n1 + n2 - 2))
    j = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0)
    assert (week_3["n_active"], week_3["n_placebo"]) == (n1, n2)
    assert_allclose([week_3["hedges_g"], week_3["hedges_g_ci_low"], week_3["hedges_g_ci_high"]],
                    np.array([week_3["estimate"], week_3["ci_low"], week_3["ci_high"]]) * j / pooled_sd,
                    rtol=1e-12)


def test_benjamini_hochberg_by_hand_and_against_statsmodels():
    p = np.array([0.01, 0.04, 0.03, 0.20])
    # sorted 0.01, 0.03, 0.04, 0.20 -> x4/1, x4/2, x4/3, x4/4 = 0.04, 0.06, 0.0533, 0.20 -> running min from the top
    assert_allclose(benjamini_hochberg(p), [0.04, 0.16 / 3, 0.16 / 3, 0.20])
    assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1])
    assert_allclose(benjamini_hochberg([0.01, np.nan, 0.04]), [0.02, np.nan, 0.04])
    assert_allclose(benjamini_hochberg([0.5, 0.9]), [0.9, 0.9])
    assert np.isnan(benjamini_hochberg([np.nan])).all()


def test_improved_needs_adjusted_p_and_the_better_direction():
    p_adj = pd.Series([0.01, 0.01, 0.01, 0.2, np.nan])
    estimate = pd.Series([2.0, -2.0, -2.0, 2.0, np.nan])
    direction = pd.Series([1, 1, -1, 1, 1])
    assert improved(p_adj, estimate, direction).tolist() == [True, False, True, False, False]


def test_ancova_completers_hc3_by_hand():
    rows = simulate_analysis_dataset(effect_by_visit=(0, 0, 3.0), seed=8, missing_rate=0.2)
    ancova = ancova_completers(rows, UNBLINDED)
    done = rows[rows["fas"] & (rows["visit"] == "week_3") & rows["aval"].notna()]
    X = np.column_stack([np.ones(len(done)), done["base"], (done["arm"] == "MgT").astype(float)])
    y = done["aval"].to_numpy()
    bread = np.linalg.inv(X.T @ X)
    beta = bread @ X.T @ y
    e = y - X @ beta
    h = np.einsum("ij,jk,ik->i", X, bread, X)
    hc3 = bread @ (X.T * (e / (1 - h)) ** 2) @ X @ bread  # MacKinnon & White (1985)
    assert ancova.n == len(done)
    assert_allclose([ancova.estimate, ancova.se], [beta[2], np.sqrt(hc3[2, 2])], rtol=1e-10)
    # t with the residual df n - 3, as lmtest::coeftest(fit, vcovHC(fit, "HC3")) tests it
    t = beta[2] / np.sqrt(hc3[2, 2])
    assert_allclose(ancova.p_value, 2.0 * scipy_stats.t.sf(abs(t), len(done) - 3), rtol=1e-10)


def test_per_protocol_model_uses_pp_rows_only():
    rows = simulate_analysis_dataset(effect_by_visit=(0, 0, 3.0), seed=9, pp_rate=0.7)
    week_3 = effect_table(rows, "simulated_outcome", UNBLINDED).iloc[2]
    pp_ids = rows.loc[rows["pp"] & rows["aval"].notna()].drop_duplicates("participant_id")
    assert week_3["pp_n_active"] == (pp_ids["arm"] == "MgT").sum()
    assert week_3["pp_n_placebo"] == (pp_ids["arm"] == "placebo").sum()
    assert week_3["pp_n_active"] + week_3["pp_n_placebo"] < 80
    assert np.isfinite(week_3["pp_estimate"]) and week_3["pp_estimate"] != week_3["estimate"]


def test_blinded_labels_give_the_same_numbers_as_b_minus_a():
    assert arm_labels(["A", "B", None]) == ArmLabels("A", "B", blinded=True)
    assert arm_labels(["placebo", "MgT"]) == UNBLINDED
    with pytest.raises(ValueError):
        arm_labels(["A", "MgT"])
    open_rows = simulate_analysis_dataset(effect_by_visit=(0, 1, 2), seed=3)
    blind_rows = simulate_analysis_dataset(effect_by_visit=(0, 1, 2), seed=3, blinded=True)
    blind = effect_table(blind_rows, "simulated_outcome", arm_labels(blind_rows["arm"]))
    unblind = effect_table(open_rows, "simulated_outcome", UNBLINDED)
    assert blind["blinded"].all() and not unblind["blinded"].any()
    numbers = ["estimate", "se", "df", "p_value", "mean_active", "hedges_g", "ancova_estimate", "pp_estimate"]
    assert_allclose(blind[numbers].to_numpy(float), unblind[numbers].to_numpy(float), rtol=1e-12)
    in_model = blind_rows.loc[blind_rows["fas"] & blind_rows["aval"].notna()].drop_duplicates("participant_id")
    assert blind["n_active"].iloc[0] == (in_model["arm"] == "B").sum()
    assert blind["n_placebo"].iloc[0] == (in_model["arm"] == "A").sum()


def _failed(rows: pd.DataFrame) -> pd.Series:
    table = effect_table(rows, "simulated_outcome", UNBLINDED)
    assert len(table) == 3 and not table["converged"].any()
    assert table["estimate"].isna().all() and table["se"].isna().all() and table["p_value"].isna().all()
    reference = effect_table(simulate_analysis_dataset(seed=1), "simulated_outcome", UNBLINDED)
    assert table.dtypes.to_dict() == reference.dtypes.to_dict()
    return table.iloc[2]


def test_failure_rows_say_why():
    rows = simulate_analysis_dataset(seed=2)
    assert "no FAS rows" in _failed(rows.assign(aval=np.nan))["message"]
    one_active = rows["participant_id"].isin(rows.loc[rows["arm"] == "MgT", "participant_id"].unique()[1:])
    assert "too few participants" in _failed(rows.assign(fas=rows["fas"] & ~one_active))["message"]
    no_active_week_3 = (rows["arm"] == "MgT") & (rows["visit"] == "week_3")
    week_3 = _failed(rows.assign(aval=rows["aval"].mask(no_active_week_3)))
    assert "singular design: no MgT values at week_3" in week_3["message"]
    assert "no residual variance" in _failed(rows.assign(aval=7.0))["message"]
    exact = rows.assign(aval=rows["base"] + np.where(rows["visit"] == "week_3", 2.0, 0.0))
    assert "no residual variance" in _failed(exact)["message"]
    only_week_1 = rows.assign(aval=rows["aval"].where(rows["visit"] == "week_1"))
    assert "no placebo values at week_2" in _failed(only_week_1)["message"]
    number = rows["participant_id"].str[3:].astype(int)
    one_value_each = rows.assign(aval=rows["aval"].where(rows["visit_num"] == number % 3 + 1))
    assert "too few observations" in _failed(one_value_each)["message"]


def test_treatment_effects_keeps_week_3_and_adjusts_within_family():
    rows = pd.concat([simulate_analysis_dataset(o, effect_by_visit=(0, 0, e), seed=6, stream=k)
                      for k, (o, e) in enumerate([("isi_total", -5.0), ("lseq_gts", 5.0), ("poms_ta", 0.0),
                                                  ("poms_va", 0.0)])])
    rows.loc[rows["outcome"] == "poms_va", "aval"] = np.nan
    tables = [effect_table(rows, o, UNBLINDED) for o in ("isi_total", "lseq_gts", "poms_ta", "poms_va")]
    te = treatment_effects_table(tables).set_index("outcome")
    assert (te["visit"] == "week_3").all() and len(te) == 4
    sleep = te.loc[["isi_total", "lseq_gts"], "p_value"].to_numpy()
    assert_allclose(te.loc[["isi_total", "lseq_gts"], "p_adj"], benjamini_hochberg(sleep))
    assert_allclose(te.loc["poms_ta", "p_adj"], te.loc["poms_ta", "p_value"])  # one test in its family
    assert np.isnan(te.loc["poms_va", "p_adj"]) and not te.loc["poms_va", "improved"]
    assert te.loc["isi_total", "better"] == "lower" and te.loc["isi_total", "improved"]
    assert te.loc["lseq_gts", "improved"] and te.loc["isi_total", "family"] == "sleep_questionnaires"

"""The MMRM against published results: R mmrm's README example and SAS PROC MIXED DDFM=KR.

Reference numbers are committed data (mglt_pipeline_tests/data/real/mmrm/, PROVENANCE there):
- ``mmrm``'s README fit of ``FEV1 ~ RACE + SEX + ARMCD * AVISIT + us(AVISIT | USUBJID)`` on its
  ``fev_data``: deviance, estimates, SEs and Satterthwaite df;
- SAS PROC MIXED ``MODEL FEV1 = ARMCD / DDFM=KR`` (and ``KR(LINEAR)``) with ``REPEATED AVISIT /
  TYPE=UN, TOEP, TOEPH, AR(1), ARH(1), CS``: the TRT - PBO estimate, its Kenward-Roger SE and df.

Both references stopped their optimizers a little short of the REML optimum, and their own outputs
show it: mmrm's README covariance gives a REML deviance 5e-6 above ours (``test_readme_...``), and
SAS's listings print -2 Res Log Like up to 7.6e-6 above ours (UN). Where that matters it is measured
and stated beside the tolerance, never hidden in a loose one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from mglt_pipeline.arms import ACTIVE, ARM_CODES, PLACEBO, ArmLabels
from mglt_pipeline.effects.covariance import STRUCTURES
from mglt_pipeline.effects.design import FIXED_EFFECTS, Design, sap_levels
from mglt_pipeline.effects.kenward_roger import MmrmInference, adjusted_covariance, kr_df, satterthwaite_df
from mglt_pipeline.effects.mmrm import evaluate, mmrm_at, pattern_moments
from mglt_pipeline.effects.primary import contrast_weights, fit_primary
from mglt_pipeline.effects.repeated import coefficient_table, fit_formula_mmrm
from mglt_pipeline.effects.sensitivity import fit_sap_mmrm
from mglt_pipeline.effects.simulate import simulate_analysis_dataset
from mglt_pipeline.effects.tables import effect_table
from mglt_pipeline.visits import FINAL_VISIT, POST_BASELINE_VISITS

DATA = Path(__file__).parent / "data" / "real" / "mmrm"
LEVELS = {"RACE": ("Asian", "Black or African American", "White"), "SEX": ("Male", "Female"),
          "ARMCD": ("PBO", "TRT"), "AVISIT": ("VIS1", "VIS2", "VIS3", "VIS4")}


@pytest.fixture(scope="module")
def fev_data() -> pd.DataFrame:
    return pd.read_csv(DATA / "fev_data.csv")


@pytest.fixture(scope="module")
def readme_fit(fev_data):
    return fit_formula_mmrm(fev_data, "FEV1 ~ RACE + SEX + ARMCD * AVISIT", LEVELS, "AVISIT", "USUBJID",
                            "unstructured")


def test_readme_example_deviance_estimates_ses_and_satterthwaite_df(readme_fit):
    fit, design = readme_fit
    reference = pd.read_csv(DATA / "mmrm_readme_fev.csv")
    assert fit.converged and fit.n_obs == 537 and fit.n_subjects == 197
    assert abs(fit.deviance - 3386.45) < 0.01
    assert design.columns[4] == "ARMCD[T.TRT]" and len(design.columns) == 11  # R's column order
    ours = coefficient_table(fit, design, MmrmInference(fit))
    # At the REML optimum. mmrm's L-BFGS-B stopped early (below): its estimates are 2e-4 away from
    # the optimum, its SEs 1.1e-4 and its Satterthwaite df 0.012 (AVISITVIS4 and its interaction).
    assert_allclose(ours["estimate"], reference["estimate"], atol=2.5e-4)
    assert_allclose(ours["se"], reference["se"], atol=1.5e-4)
    assert_allclose(ours["df"], reference["df"], atol=0.015)
    assert np.abs(ours["df"].to_numpy() - reference["df"]).mean() < 0.006


def test_readme_covariance_is_short_of_the_optimum_and_our_gls_reproduces_its_numbers(readme_fit, fev_data):
    """At mmrm's printed covariance (4 decimals) the deviance is 5e-6 above our optimum, and the GLS
    estimates and model-based SEs there are mmrm's printed ones (to the rounding of that covariance)."""
    fit, design = readme_fit
    sigma = pd.read_csv(DATA / "mmrm_readme_covariance.csv", index_col=0).to_numpy()
    rows, cols = np.tril_indices(4)
    rows_used = fev_data.loc[fev_data["FEV1"].notna()].reset_index(drop=True)
    moments = pattern_moments(design.rows(rows_used), rows_used["FEV1"].to_numpy(float),
                              rows_used["USUBJID"].to_numpy(),
                              rows_used["AVISIT"].str[3:].astype(int).to_numpy() - 1, 4)
    at_readme = mmrm_at(moments, "unstructured", sigma[rows, cols], 197)
    assert 0 < at_readme.deviance - fit.deviance < 1e-5
    assert evaluate(moments, fit.sigma).deviance == pytest.approx(fit.deviance, abs=1e-9)
    reference = pd.read_csv(DATA / "mmrm_readme_fev.csv")
    table = coefficient_table(at_readme, design, MmrmInference(at_readme))
    assert_allclose(table["estimate"], reference["estimate"], atol=1e-5)
    assert_allclose(table["se"], reference["se"], atol=1e-5)


def test_mmrm_with_a_tight_optimizer_reaches_our_optimum(readme_fit):
    """R mmrm 0.3.18 on the README model with nlminb at rel.tol 1e-14 (PROVENANCE) converges to our
    fit: its deviance 3386.44987116, its estimates, model-based SEs and Satterthwaite df ours."""
    fit, design = readme_fit
    reference = pd.read_csv(DATA / "mmrm_tight_fev.csv")
    ours = coefficient_table(fit, design, MmrmInference(fit))
    assert fit.deviance == pytest.approx(3386.44987116, abs=1e-7)
    assert_allclose(ours["estimate"], reference["estimate"], atol=1e-8)
    assert_allclose(ours["se"], reference["se"], atol=1e-8)
    assert_allclose(ours["df"], reference["df"], atol=2e-6)


SAS = pd.read_csv(DATA / "sas_ddfm_kr.csv")


@pytest.mark.parametrize("covariance", list(dict.fromkeys(SAS["covariance"])))
def test_kenward_roger_matches_sas_proc_mixed(fev_data, covariance):
    fit, design = fit_formula_mmrm(fev_data, "FEV1 ~ ARMCD", LEVELS, "AVISIT", "USUBJID", covariance)
    assert fit.converged
    L = np.array([0.0, 1.0])
    for r in SAS.loc[SAS["covariance"] == covariance].itertuples():
        # SAS's -2 Res Log Like is at or above ours: 7.6e-6 (UN), 7e-7 (TOEP), 1.6e-6 (ARH), else equal
        assert -1e-7 < r.minus2_res_log_like - fit.deviance < 1e-5
        se = np.sqrt(L @ adjusted_covariance(fit, linear=r.ddfm == "kr(linear)") @ L)
        df = kr_df(fit, L).df
        assert_allclose([fit.beta[1], se], [r.estimate, r.se], rtol=1e-4)
        # UN: SAS stopped 7.6e-6 above the REML minimum; its df is 2.7e-4 from the optimum's
        assert_allclose(df, r.df, rtol=3e-4 if covariance == "unstructured" else 1e-4)
        # for one contrast KR's df is Satterthwaite's (Kenward & Roger 1997, sec. 4)
        assert_allclose(df, satterthwaite_df(fit, L), rtol=1e-10)


def test_kenward_roger_at_sas_covariance_estimates_reproduces_sas_unstructured(fev_data):
    """SAS's UN fit stopped 7.6e-6 above the REML minimum, which moves its KR df by 2.7e-4 from the
    optimum's (above). At SAS's own covariance estimates, as its listing prints them (SAS's
    ``PARMS ... / NOITER``), the same Kenward-Roger computation gives SAS's estimate, SE and df."""
    fit, design = fit_formula_mmrm(fev_data, "FEV1 ~ ARMCD", LEVELS, "AVISIT", "USUBJID", "unstructured")
    rows = fev_data.loc[fev_data["FEV1"].notna()].reset_index(drop=True)
    visits = rows["AVISIT"].map({v: k for k, v in enumerate(LEVELS["AVISIT"])}).to_numpy()
    moments = pattern_moments(design.rows(rows), rows["FEV1"].to_numpy(float), rows["USUBJID"].to_numpy(),
                              visits, len(LEVELS["AVISIT"]))
    phi = pd.read_csv(DATA / "sas_un_covariance_parameters.csv")["estimate"].to_numpy()
    at_sas = mmrm_at(moments, "unstructured", phi, rows["USUBJID"].nunique())
    sas = SAS.loc[(SAS["covariance"] == "unstructured") & (SAS["ddfm"] == "kr")].iloc[0]
    L = np.array([0.0, 1.0])
    se = np.sqrt(L @ adjusted_covariance(at_sas, linear=False) @ L)
    # the printed parameters are rounded to 4-6 digits: still 1e-5 relative or better
    assert_allclose([at_sas.beta[1], se, kr_df(at_sas, L).df], [sas.estimate, sas.se, sas.df], rtol=1e-5)
    assert abs(at_sas.deviance - sas.minus2_res_log_like) < 1e-5 and at_sas.deviance > fit.deviance


def test_second_derivative_term_vanishes_exactly_where_sas_parameters_are_linear(fev_data):
    for name, structure in STRUCTURES.items():
        fit, _ = fit_formula_mmrm(fev_data, "FEV1 ~ ARMCD", LEVELS, "AVISIT", "USUBJID", name)
        difference = adjusted_covariance(fit) - adjusted_covariance(fit, linear=True)
        assert (np.abs(difference).max() == 0.0) == structure.linear, name


def test_analytic_derivatives_equal_finite_differences(fev_data):
    """Gradient and observed Hessian of the REML deviance in SAS's parameters, at a point off the
    optimum, against central differences of the deviance itself (independent of the formulas)."""
    fit, design = fit_formula_mmrm(fev_data, "FEV1 ~ ARMCD", LEVELS, "AVISIT", "USUBJID", "ar1_heterogeneous")
    rows = fev_data.loc[fev_data["FEV1"].notna()].reset_index(drop=True)
    moments = pattern_moments(design.rows(rows), rows["FEV1"].to_numpy(float), rows["USUBJID"].to_numpy(),
                              rows["AVISIT"].str[3:].astype(int).to_numpy() - 1, 4)
    structure = STRUCTURES["ar1_heterogeneous"]
    phi = fit.phi * (1.0 + 0.03 * np.cos(np.arange(len(fit.phi))))
    at = mmrm_at(moments, "ar1_heterogeneous", phi, fit.n_subjects)

    def deviance(p):
        return evaluate(moments, structure.sigma(p, 4).sigma).deviance

    h = 1e-4 * np.maximum(np.abs(phi), 1.0)
    q = len(phi)
    step = np.diag(h)
    gradient = np.array([(deviance(phi + step[i]) - deviance(phi - step[i])) / (2 * h[i]) for i in range(q)])
    hessian = np.array([[(deviance(phi + step[i] + step[j]) - deviance(phi + step[i] - step[j])
                          - deviance(phi - step[i] + step[j]) + deviance(phi - step[i] - step[j]))
                         / (4 * h[i] * h[j]) for j in range(q)] for i in range(q)])
    assert_allclose(at.derivatives.gradient, gradient, rtol=1e-5, atol=1e-6 * np.abs(gradient).max())
    assert_allclose(at.derivatives.hessian, hessian, rtol=1e-4, atol=1e-5 * np.abs(hessian).max())


# --- the SAP's MMRM on analysis-dataset rows (effects/sensitivity.py)

UNBLINDED = ArmLabels(PLACEBO, ACTIVE, blinded=False)


def test_sap_mmrm_recovers_a_planted_effect_and_blinding_changes_only_the_labels():
    rows = simulate_analysis_dataset(effect_by_visit=(1.0, 2.0, 4.0), seed=12)
    mmrm = fit_sap_mmrm(rows, UNBLINDED)
    assert mmrm.covariance == "unstructured" and mmrm.message == "converged"
    assert (mmrm.n_active, mmrm.n_control) == (40, 40)
    for visit, truth in zip(POST_BASELINE_VISITS, (1.0, 2.0, 4.0)):
        estimate, df_satterthwaite = mmrm.contrast(visit)
        assert estimate.ci_low < truth < estimate.ci_high and estimate.df_method == "kenward-roger"
        assert_allclose(estimate.df, df_satterthwaite, rtol=1e-10)   # one contrast: KR df = Satterthwaite df
        assert estimate.se >= mmrm.inference.contrast(
            contrast_weights(mmrm.design, UNBLINDED, visit)).se_model   # KR inflates the SE
    blinded = fit_sap_mmrm(simulate_analysis_dataset(effect_by_visit=(1.0, 2.0, 4.0), seed=12, blinded=True),
                           ArmLabels(*ARM_CODES, blinded=True))
    assert blinded.contrast(FINAL_VISIT)[0] == mmrm.contrast(FINAL_VISIT)[0]


def test_falls_back_to_the_next_structure_and_says_why():
    """No participant has both week_1 and week_3: their covariance is not identified, so neither the
    unstructured nor the heterogeneous Toeplitz model (its lag-2 correlation) can be fitted;
    heterogeneous AR(1) can (lag 2 is rho^2), and is used, as the SAP's order says."""
    rows = simulate_analysis_dataset(seed=3, missing_rate=0.0)
    number = rows["participant_id"].str[3:].astype(int)
    rows.loc[rows["visit"] == np.where(number % 2 == 0, "week_1", "week_3"), "aval"] = np.nan
    mmrm = fit_sap_mmrm(rows, UNBLINDED)
    assert mmrm.covariance == "ar1_heterogeneous" and mmrm.fit.converged
    assert "unstructured did not converge (the information matrix is singular" in mmrm.message
    assert "toeplitz_heterogeneous did not converge" in mmrm.message
    week_3 = effect_table(rows, "simulated_outcome", UNBLINDED).iloc[2]
    assert week_3["mmrm_covariance"] == "ar1_heterogeneous" and "ar1_heterogeneous used" in week_3["message"]


def test_other_visits_need_no_code_change():
    """Visits come from the design's levels: a fourth visit and other visit names fit with the same
    code, and renaming the visits changes no number."""
    rows = simulate_analysis_dataset(effect_by_visit=(0.0, 1.0, 3.0), seed=21)
    rng = np.random.default_rng(0)
    week_3 = rows.loc[rows["visit"] == "week_3"]
    extra = week_3.assign(visit="week_4", visit_num=4, aval=week_3["aval"] + 1.0 + rng.normal(0, 2, len(week_3)))
    four = pd.concat([rows, extra], ignore_index=True)
    names = {"week_1": "day_7", "week_2": "day_14", "week_3": "day_21", "week_4": "day_28"}
    renamed = four.assign(visit=four["visit"].map(names))
    fits = {}
    for label, frame, visits in (("weeks", four, tuple(names)), ("days", renamed, tuple(names.values()))):
        design = Design.build(frame, FIXED_EFFECTS, sap_levels(UNBLINDED, visits))
        assert len(design.columns) == 9 and design.term_columns("C(visit):arm") == [6, 7, 8]
        primary, mmrm = fit_primary(frame, UNBLINDED, design=design), fit_sap_mmrm(frame, UNBLINDED, design)
        assert primary.converged and mmrm.covariance == "unstructured" and mmrm.fit.n_visits == 4
        fits[label] = [(primary.contrast(v).estimate, mmrm.contrast(v)[0].estimate, mmrm.contrast(v)[0].se)
                       for v in visits]
    assert_allclose(fits["days"], fits["weeks"], rtol=1e-10)

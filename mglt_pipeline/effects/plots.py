"""Figures of the treatment effects, as PNG bytes (matplotlib, Agg backend).

Public for the report: ``adjusted_means_png(effect_table, title)`` (one outcome's adjusted means by
visit and arm with 95% CIs) and ``forest_plot_png(treatment_effects)`` (Hedges' g with 95% CI of
every outcome, grouped by family). Arms are named A/B while blinded (SAP "Blinded mode").
Each figure is drawn once, by the asset that owns it, which writes it under ``reports/figures/``;
the report reads it from there (``defs.effects``, ``defs.report``).
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mglt_pipeline.arms import BLINDED_ARMS, UNBLINDED_ARMS  # noqa: E402
from mglt_pipeline.registry import FAMILIES, FAMILY_TITLES, OUTCOMES_BY_ID  # noqa: E402

COLOURS = {"placebo": "#7f7f7f", "active": "#1f77b4"}
ADJUSTED_MEANS_COLUMNS = ["outcome", "visit_num", "visit", "blinded", "converged", *(
    f"mean_{arm}{bound}" for arm in ("placebo", "active") for bound in ("", "_ci_low", "_ci_high"))]
FOREST_COLUMNS = ["family", "outcome", "better", "improved", "p_adj", "estimate", "hedges_g", "hedges_g_ci_low",
                  "hedges_g_ci_high", "blinded"]
BENEFIT, HARM, NO_DIFFERENCE = "benefit", "harm", "no_difference"
VERDICT_STYLES = {  # colour and marker per verdict: told apart by colour and by shape (greyscale prints)
    BENEFIT: ("#1a7f37", "o", "better on {active} (p (BH) < 0.05)"),
    HARM: ("#c62828", "D", "worse on {active} (p (BH) < 0.05)"),
    NO_DIFFERENCE: ("#6e7781", "s", "no difference shown (p (BH) \u2265 0.05)"),
}
SIGNIFICANCE = 0.05


def arm_names(blinded: bool) -> dict[str, str]:
    """Legend names of the reference and the active arm: the model's labels (A/B while blinded)."""
    control, active = BLINDED_ARMS if blinded else UNBLINDED_ARMS
    return {"placebo": control, "active": active}


def _png(fig: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def mean_axis_label(outcome_id: str) -> str:
    """The y axis of an adjusted-means plot: the quantity and the outcome's unit from the registry."""
    entry = OUTCOMES_BY_ID.get(outcome_id)
    return f"Adjusted mean, {entry.unit}" if entry else "Adjusted mean"


def adjusted_means_png(effect_table: pd.DataFrame, title: str) -> bytes:
    """Adjusted mean by visit and arm with 95% CI, from one outcome's effect table."""
    return _draw_adjusted_means(effect_table[ADJUSTED_MEANS_COLUMNS], title)


def _draw_adjusted_means(effect_table: pd.DataFrame, title: str) -> bytes:
    table = effect_table.sort_values("visit_num")
    blinded = bool(table["blinded"].iloc[0]) if len(table) else False
    fig, ax = plt.subplots(figsize=(5.0, 3.2))
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.16, top=0.9)
    names = arm_names(blinded)
    for offset, arm in ((-0.06, "placebo"), (0.06, "active")):
        mean = table[f"mean_{arm}"].to_numpy(float)
        err = np.vstack([mean - table[f"mean_{arm}_ci_low"], table[f"mean_{arm}_ci_high"] - mean])
        ax.errorbar(table["visit_num"] + offset, mean, yerr=err, marker="o", capsize=3,
                    color=COLOURS[arm], label=names[arm])
    if len(table) and not table["converged"].any():
        ax.text(0.5, 0.5, "model not fitted", transform=ax.transAxes, ha="center", va="center")
    ax.set_xticks(table["visit_num"], table["visit"].str.replace("_", " ").str.capitalize())
    ax.set_xlabel("Visit")
    ax.set_ylabel(mean_axis_label(str(table["outcome"].iloc[0]) if len(table) else ""))
    ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    return _png(fig)


def forest_plot_png(treatment_effects: pd.DataFrame) -> bytes:
    """Hedges' g at week_3 with 95% CI of every outcome, grouped by family; g > 0: active higher."""
    return _draw_forest_plot(treatment_effects[[c for c in FOREST_COLUMNS if c in treatment_effects]])


def verdict(row: pd.Series) -> str:
    """``benefit`` when BH-adjusted p < 0.05 in the better direction, ``harm`` when < 0.05 in the worse
    direction, else ``no_difference`` (an unfitted model included)."""
    p_adj, estimate = row.get("p_adj"), row.get("estimate", row.get("hedges_g"))
    if p_adj is None or pd.isna(p_adj) or estimate is None or pd.isna(estimate) or p_adj >= SIGNIFICANCE:
        return NO_DIFFERENCE
    direction = 1 if row["better"] == "higher" else -1
    return BENEFIT if estimate * direction > 0 else HARM


def _draw_forest_plot(treatment_effects: pd.DataFrame) -> bytes:
    table = treatment_effects.assign(
        _family=pd.Categorical(treatment_effects["family"], categories=FAMILIES, ordered=True))
    table = table.sort_values("_family", kind="stable")
    labels, y, rows = [], 0.0, []
    for family, block in table.groupby("_family", observed=True, sort=True):
        labels.append((y, FAMILY_TITLES.get(family, family), True))
        y -= 1.0
        for _, row in block.iterrows():
            rows.append((y, row))
            entry = OUTCOMES_BY_ID.get(row["outcome"])
            better = "higher" if row["better"] == "higher" else "lower"
            labels.append((y, f"{entry.label if entry else row['outcome']} ({better} is better)", False))
            y -= 1.0
    height = 0.26 * max(len(labels), 4) + 1.9
    fig, ax = plt.subplots(figsize=(9.0, height))
    fig.subplots_adjust(left=0.43, right=0.97, bottom=1.55 / height, top=1.0 - 0.15 / height)
    for y_row, row in rows:
        colour, marker, _ = VERDICT_STYLES[verdict(row)]
        ax.plot([row["hedges_g_ci_low"], row["hedges_g_ci_high"]], [y_row, y_row], color=colour, lw=1.6)
        ax.plot([row["hedges_g"]], [y_row], marker=marker, color=colour, ms=5, linestyle="none")
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks([p[0] for p in labels], [p[1] for p in labels], fontsize=8.5)
    for tick, (_, _, header) in zip(ax.get_yticklabels(), labels):
        tick.set_fontweight("bold" if header else "normal")
    ax.set_ylim(y + 0.5, 0.5)
    ax.tick_params(axis="x", labelsize=8.5)
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    blinded = bool(table["blinded"].any()) if "blinded" in table else False
    names = arm_names(blinded)
    ax.set_xlabel(f"Hedges' g at week 3, {names['active']} minus {names['placebo']} (95% CI)\n"
                  f"right of 0: higher on {names['active']}", fontsize=9)
    handles = [plt.Line2D([], [], color=c, marker=m, lw=1.6, label=text.format(active=names["active"]))
               for c, m, text in VERDICT_STYLES.values()]
    fig.legend(handles=handles, loc="lower left", ncol=1, fontsize=8.5, frameon=False,
               bbox_to_anchor=(0.42, 0.0))
    return _png(fig)

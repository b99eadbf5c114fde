"""Hedges' g of the week_3 contrast (SAP "Effect size").

g = estimate / SD_pooled(base) x J, with SD_pooled the pooled within-arm SD of ``base`` over the FAS
participants of the outcome (one baseline per participant) and J = 1 - 3 / (4 (n1 + n2) - 9), the
small-sample correction of Hedges (1981). The 95% CI is the model-based CI of the estimate put on
the same scale (ci / SD_pooled x J): the SD is a fixed, pre-treatment scale, so the uncertainty
comes from the contrast itself, with its Satterthwaite df.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mglt_pipeline.arms import ArmLabels


@dataclass(frozen=True)
class HedgesG:
    g: float
    ci_low: float
    ci_high: float
    pooled_sd: float
    correction: float


def pooled_baseline_sd(rows: pd.DataFrame, labels: ArmLabels) -> tuple[float, int, int]:
    """Pooled within-arm SD of ``base`` over the FAS participants, and the two arm sizes."""
    fas = rows.loc[rows["fas"].astype(bool) & rows["base"].notna()].drop_duplicates("participant_id")
    groups = [fas.loc[fas["arm"] == arm, "base"].to_numpy(float) for arm in (labels.active, labels.control)]
    n1, n2 = len(groups[0]), len(groups[1])
    if min(n1, n2) < 1 or n1 + n2 < 3:
        return float("nan"), n1, n2
    ss = sum(((g - g.mean()) ** 2).sum() for g in groups)
    return float(np.sqrt(ss / (n1 + n2 - 2))), n1, n2


def hedges_g(estimate: float, ci_low: float, ci_high: float, rows: pd.DataFrame,
             labels: ArmLabels) -> HedgesG:
    """Hedges' g and its CI from the week_3 estimate and CI and one outcome's analysis rows."""
    sd, n1, n2 = pooled_baseline_sd(rows, labels)
    correction = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0) if n1 + n2 >= 3 else float("nan")
    scale = correction / sd if sd > 0 else float("nan")
    return HedgesG(estimate * scale, ci_low * scale, ci_high * scale, sd, correction)

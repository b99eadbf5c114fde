"""The adherence heat map: one row per participant, one column per study night, coloured by what
the night holds (a main sleep, or the reason it has none), as PNG bytes.

Participants are grouped by arm (a labelled band per arm) and ordered by id within it. Beyond
``MAX_ROWS`` participants a picture of every one is no longer readable: the map then shows the
``MAX_ROWS`` with the fewest nights with a main sleep, and its title says so.
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from mglt_pipeline.analysis.adherence import REASONS, STUDY_NIGHTS  # noqa: E402
from mglt_pipeline.report.adherence import REASON_LABELS  # noqa: E402

MAIN_SLEEP = "main_sleep"
CATEGORIES = (MAIN_SLEEP, *REASONS)
COLOURS = {MAIN_SLEEP: "#cde5cd", "withdrawn": "#bdbdbd", "not_synced": "#5e3c99", "not_worn": "#e66101",
           "no_main_sleep": "#fdb863", "no_sleep_recorded": "#1b9e77", "no_data": "#d01c8b"}
MAX_ROWS = 150


def night_categories(adherence: pd.DataFrame) -> pd.Series:
    """Each night's category: ``main_sleep`` inside the study, else its reason."""
    return adherence["reason"].astype(object).where(adherence["reason"].notna(), MAIN_SLEEP)


def _shown(adherence: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    wear = (adherence["main_sleep"] & adherence["in_study"]).groupby(adherence["participant_id"]).sum()
    if len(wear) <= MAX_ROWS:
        return adherence, False
    keep = wear.sort_values(kind="stable").index[:MAX_ROWS]
    return adherence.loc[adherence["participant_id"].isin(keep)], True


def adherence_heatmap_png(adherence: pd.DataFrame) -> bytes:
    """Participants (rows, grouped by arm) by study night (columns), coloured by category, with a legend."""
    shown, cut = _shown(adherence)
    codes = night_categories(shown).map({c: i for i, c in enumerate(CATEGORIES)})
    grid = (shown.assign(code=codes).pivot_table(index=["arm", "participant_id"], columns="study_day",
                                                 values="code", aggfunc="first")
            .reindex(columns=list(STUDY_NIGHTS)).sort_index())
    n_rows = max(len(grid), 1)
    height = min(0.11 * n_rows + 2.3, 26.0)
    fig, ax = plt.subplots(figsize=(8.0, height))
    fig.subplots_adjust(left=0.17, right=0.98, top=1 - 0.45 / height, bottom=1.6 / height)
    cmap = ListedColormap([COLOURS[c] for c in CATEGORIES])
    ax.imshow(grid.to_numpy(float) if len(grid) else np.zeros((1, len(STUDY_NIGHTS))), aspect="auto",
              cmap=cmap, vmin=-0.5, vmax=len(CATEGORIES) - 0.5, interpolation="nearest")
    ax.set_xticks(range(len(STUDY_NIGHTS)), [str(d) for d in STUDY_NIGHTS], fontsize=6.5)
    ax.set_xlabel("Study night (Day 1: first dose; no Day 0)", fontsize=8.5)
    ids = [pid for _, pid in grid.index]
    ax.set_yticks(range(len(ids)), ids, fontsize=max(4.0, min(7.0, 520 / n_rows)))
    arms = [arm for arm, _ in grid.index]
    starts = [i for i, arm in enumerate(arms) if i == 0 or arm != arms[i - 1]]
    for start in starts:
        end = next((s for s in starts if s > start), len(arms))
        if start:
            ax.axhline(start - 0.5, color="black", lw=1.2)
        ax.text(-0.19, (start + end - 1) / 2, f"Arm {arms[start]}", transform=ax.get_yaxis_transform(),
                rotation=90, va="center", ha="center", fontsize=9, fontweight="bold")
    ax.axvline(STUDY_NIGHTS.index(1) - 0.5, color="black", lw=0.8, linestyle="--")
    counts = night_categories(adherence).value_counts()
    handles = [Patch(facecolor=COLOURS[c], edgecolor="#555", label=f"{REASON_LABELS[c]} ({int(counts.get(c, 0))})")
               for c in CATEGORIES]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=7.5, frameon=False)
    title = "Oura wear by participant and study night"
    if cut:
        title += f": the {MAX_ROWS} participants with the fewest nights with a main sleep"
    ax.set_title(title, fontsize=9.5)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()

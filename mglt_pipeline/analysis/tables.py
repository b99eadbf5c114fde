"""The trial tables: baseline characteristics ("Table 1"), participant flow (CONSORT) and adverse events.

Populations (SAP "Analysis sets"): Table 1 describes the randomized participants by arm as
randomized; the flow counts every enrolled participant; adverse events come from the safety set
(dosed participants) and the diary's ``adverse_event`` text. Arm labels are those of the analysis
dataset: ``MgT``/``placebo`` once unblinded, ``A``/``B`` while blinded.
"""
from __future__ import annotations

import pandas as pd

from mglt_pipeline.registry import outcome

TABLE_1_OUTCOMES: tuple[str, ...] = ("isi_total", "rsq_total", "oura_sleep_score")
FLOW_FAS_OUTCOMES: tuple[str, ...] = ("oura_deep_sleep_score", "isi_total", "diary_energy")
SEXES: tuple[str, ...] = ("F", "M", "X")
OVERALL = "overall"
NOT_RANDOMIZED = "not randomized"
TOTAL = "total"
FLOW_COLUMNS = ["stage", "arm", "n"]
AE_COLUMNS = ["participant_id", "study_day", "date", "arm", "text"]


def _arm_groups(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Each arm's rows (sorted by label), then all rows as ``overall``."""
    groups = [(arm, rows) for arm, rows in frame.groupby("arm", sort=True)]
    return groups + [(OVERALL, frame)]


def _summary_rows(arm: str, rows: pd.DataFrame) -> list[dict]:
    """Table 1 rows of one arm: participants, age, sex and the baseline outcomes."""
    out = [{"characteristic": "participants", "level": None, "arm": arm, "n": len(rows), "count": len(rows)}]
    for name in ("age", "sex") + TABLE_1_OUTCOMES:
        if name == "sex":
            for sex in SEXES:
                count = int((rows["sex"] == sex).sum())
                out.append({"characteristic": "sex", "level": sex, "arm": arm, "n": len(rows), "count": count,
                            "percent": 100.0 * count / len(rows) if len(rows) else None})
            continue
        values = rows[name].dropna()
        out.append({"characteristic": name, "level": None, "arm": arm, "n": len(values),
                    "mean": values.mean() if len(values) else None,
                    "sd": values.std(ddof=1) if len(values) > 1 else None})
    return out


def _display(row: pd.Series) -> str:
    if row["characteristic"] == "participants":
        return f"{int(row['count'])}"
    if row["characteristic"] == "sex":
        return f"{int(row['count'])} ({row['percent']:.1f}%)" if pd.notna(row["percent"]) else "0"
    if pd.isna(row["mean"]):
        return "-"
    sd = f"{row['sd']:.1f}" if pd.notna(row["sd"]) else "-"
    return f"{row['mean']:.1f} ({sd})"


def derive_baseline_characteristics(participants: pd.DataFrame, arms: pd.DataFrame,
                                    analysis_dataset: pd.DataFrame) -> pd.DataFrame:
    """Table 1, tidy: one row per characteristic (and sex level) and arm, plus ``overall``.

    Columns ``characteristic``, ``level``, ``arm``, ``n`` (participants with a value), ``mean``,
    ``sd`` (ddof 1), ``count``, ``percent``, ``display`` (``mean (SD)`` or ``count (%)``).
    Baseline outcome values are the analysis dataset's ``base``.
    """
    for outcome_id in TABLE_1_OUTCOMES:
        outcome(outcome_id)
    base = (analysis_dataset.drop_duplicates(["participant_id", "outcome"])
            .pivot(index="participant_id", columns="outcome", values="base")
            .reindex(columns=list(TABLE_1_OUTCOMES)).reset_index())
    people = arms[["participant_id", "arm"]].merge(participants[["participant_id", "age", "sex"]],
                                                  on="participant_id", how="left")
    people = people.merge(base, on="participant_id", how="left")
    rows = [r for arm, group in _arm_groups(people) for r in _summary_rows(arm, group)]
    table = pd.DataFrame(rows, columns=["characteristic", "level", "arm", "n", "mean", "sd", "count", "percent"])
    table["count"] = table["count"].astype("Int64")
    table[["mean", "sd", "percent"]] = table[["mean", "sd", "percent"]].astype(float)
    table["display"] = table.apply(_display, axis=1)
    return table


def baseline_wide(table: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as it is printed: characteristics down, arms (then overall) across, ``display`` cells."""
    label = table["characteristic"] + table["level"].map(lambda lv: f": {lv}" if isinstance(lv, str) else "")
    wide = table.assign(row=label).pivot(index="row", columns="arm", values="display")
    arms = [a for a in wide.columns if a != OVERALL] + [OVERALL]
    wide = wide.reindex(index=list(dict.fromkeys(label)), columns=arms)
    return wide.rename_axis(index="characteristic", columns=None).reset_index()


def baseline_markdown(table: pd.DataFrame) -> str:
    """Table 1 as Markdown (``baseline_wide``)."""
    return baseline_wide(table).to_markdown(index=False)


def derive_participant_flow(participants: pd.DataFrame, arms: pd.DataFrame,
                            analysis_dataset: pd.DataFrame, randomization_conflicts=()) -> pd.DataFrame:
    """CONSORT counts per stage and arm (``stage``, ``arm``, ``n``), with a ``total`` per stage.

    Enrolled participants never randomized are counted under ``not randomized``. Stages nest:
    enrolled >= randomized >= dosed >= completed; withdrawn and lost to follow-up are counted
    among the randomized; ``fas_<outcome>`` counts the FAS of the key outcomes.
    ``randomization_conflict`` counts the participants randomized twice with different rows
    (DATA_CONTRACT.md): their arm is unknown, so they sit under ``not randomized`` and are not
    analysed until the conflict is resolved.
    """
    people = participants[["participant_id", "first_dose_on", "status"]].merge(
        arms[["participant_id", "arm"]], on="participant_id", how="outer")
    randomized = people["arm"].notna()
    dosed = randomized & people["first_dose_on"].notna()
    stages = {
        "enrolled": pd.Series(True, index=people.index),
        "randomized": randomized,
        "dosed": dosed,
        "completed": dosed & (people["status"] == "completed"),
        "withdrawn": randomized & (people["status"] == "withdrawn"),
        "lost_to_follow_up": randomized & (people["status"] == "lost_to_follow_up"),
        "randomization_conflict": people["participant_id"].isin(set(randomization_conflicts)),
    }
    for outcome_id in FLOW_FAS_OUTCOMES:
        outcome(outcome_id)
        fas_ids = analysis_dataset.loc[(analysis_dataset["outcome"] == outcome_id) & analysis_dataset["fas"], "participant_id"]
        stages[f"fas_{outcome_id}"] = people["participant_id"].isin(set(fas_ids))
    arm = people["arm"].fillna(NOT_RANDOMIZED)
    labels = sorted(arms["arm"].dropna().unique()) + [NOT_RANDOMIZED]
    rows = []
    for stage, members in stages.items():
        counts = members.astype(bool).groupby(arm).sum()
        rows += [{"stage": stage, "arm": label, "n": int(counts.get(label, 0))} for label in labels]
        rows.append({"stage": stage, "arm": TOTAL, "n": int(members.sum())})
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)


def flow_inconsistencies(flow: pd.DataFrame) -> list[str]:
    """What does not add up in a participant flow (empty when it does): every stage's total is the
    sum of its arms and of the not-randomized; randomized is the sum of the arms; the stages nest,
    enrolled >= randomized >= dosed >= completed, in every arm and in total."""
    counts = flow.pivot_table(index="stage", columns="arm", values="n", aggfunc="sum", fill_value=0)
    arms = [c for c in counts.columns if c not in (NOT_RANDOMIZED, TOTAL)]
    problems = [f"{stage}: total {row[TOTAL]} is not the sum of its columns"
                for stage, row in counts.iterrows() if row[TOTAL] != row[arms].sum() + row.get(NOT_RANDOMIZED, 0)]
    if counts.loc["randomized", arms].sum() != counts.loc["randomized", TOTAL]:
        problems.append("randomized is not the sum of the arms")
    nested = ["enrolled", "randomized", "dosed", "completed"]
    for column in [*arms, TOTAL]:
        for outer, inner in zip(nested, nested[1:]):
            if column != TOTAL and outer == "enrolled":
                continue  # enrolled by arm is the randomized of that arm
            if counts.loc[outer, column] < counts.loc[inner, column]:
                problems.append(f"{column}: {outer} {counts.loc[outer, column]} < {inner} {counts.loc[inner, column]}")
    return problems


def flow_wide(flow: pd.DataFrame) -> pd.DataFrame:
    """The flow as it is printed: stages down, arms across (then not randomized and total)."""
    wide = flow.pivot(index="stage", columns="arm", values="n")
    wide = wide.reindex(index=list(dict.fromkeys(flow["stage"])), columns=list(dict.fromkeys(flow["arm"])))
    return wide.rename_axis(columns=None).reset_index()


def flow_markdown(flow: pd.DataFrame) -> str:
    """The flow as Markdown (``flow_wide``)."""
    return flow_wide(flow).to_markdown(index=False)


def derive_adverse_events(diary_daily: pd.DataFrame, participants: pd.DataFrame, arms: pd.DataFrame) -> pd.DataFrame:
    """Every non-empty diary ``adverse_event`` of the safety set (dosed participants)."""
    dosed = set(participants.loc[participants["first_dose_on"].notna(), "participant_id"])
    events = diary_daily[diary_daily["adverse_event"].notna() & diary_daily["participant_id"].isin(dosed)]
    events = events.merge(arms[["participant_id", "arm"]], on="participant_id", how="left")
    events = events.assign(arm=events["arm"].fillna(NOT_RANDOMIZED), text=events["adverse_event"])
    return events[AE_COLUMNS].sort_values(["participant_id", "date"]).reset_index(drop=True)


def adverse_event_summary(events: pd.DataFrame, participants: pd.DataFrame, arms: pd.DataFrame) -> pd.DataFrame:
    """Per arm: participants in the safety set and those with any treatment-emergent adverse event,
    one written on or after Study Day 1 (events of the run-in week are listed, not counted; an event
    whose study day is unknown counts as treatment-emergent, the conservative reading)."""
    safety = participants.loc[participants["first_dose_on"].notna(), ["participant_id"]].merge(
        arms[["participant_id", "arm"]], on="participant_id", how="left")
    safety["arm"] = safety["arm"].fillna(NOT_RANDOMIZED)
    emergent = events.loc[events["study_day"].isna() | (events["study_day"] >= 1), "participant_id"]
    safety["with_event"] = safety["participant_id"].isin(set(emergent))
    summary = safety.groupby("arm").agg(safety_set=("participant_id", "size"),
                                        with_treatment_emergent_event=("with_event", "sum"))
    summary.loc[TOTAL] = summary.sum()
    return summary.reset_index().astype({"safety_set": int, "with_treatment_emergent_event": int})

"""Scored instruments (group ``scored``): ISI, LSEQ, RSQ-W and POMS scores per participant and visit.

One asset and one range check per instrument, scored in one step from the specs of
``mglt_pipeline.scoring.instruments``; the scoring itself is ``score_instrument`` (INSTRUMENTS.md).
"""
import dagster as dg
import pandas as pd

from mglt_pipeline.scoring.instruments import INSTRUMENTS, Instrument
from mglt_pipeline.scoring.score import score_instrument
from mglt_pipeline.scoring.summary import markdown_preview, missing_scores, out_of_range, score_distribution

GROUP = "scored"
QUESTIONNAIRE_ITEMS = dg.AssetKey("questionnaire_items")
ISI_SCORES, LSEQ_SCORES, RSQ_SCORES, POMS_SCORES = (dg.AssetKey(i.asset_name) for i in INSTRUMENTS)

_COMMON = (
    " One row per participant and visit that has the form (an absent form gives no row; a form with "
    "every item blank gives missing scores and n_answered 0). Each score, named by its SAP outcome "
    "id, has `<score>_n_answered` beside it. Scores are floats, not rounded."
)
DESCRIPTIONS: dict[str, str] = {
    "isi": (
        "Insomnia Severity Index: `isi_total` = sum of the 7 items (0..28); with 6 of 7 answered, "
        "mean of the answered x 7 (project rule); with fewer, missing. `isi_category` of the total: "
        "none 0-7, subthreshold 8-14, moderate 15-21, severe 22-28. Project rule for a pro-rated, "
        "non-integer total: the bands are read as upper bounds 7, 14, 21 included, i.e. none <= 7 < "
        "subthreshold <= 14 < moderate <= 21 < severe, so 7.0 < x < 8.0 is subthreshold (a total above "
        "7 is not 'none'); for integer totals this is the published banding. (With whole-number items a "
        "6-item pro-rated total, a multiple of 7/6, never falls strictly between two bands.)"
    ),
    "lseq": (
        "Leeds Sleep Evaluation Questionnaire domains (0..100 mm, higher is better, 50 = as usual): "
        "`lseq_gts` items 1-3, `lseq_qos` 4-5, `lseq_afs` 6-7, `lseq_bfw` 8-10; each the mean of its "
        "answered items (project rule), needing 2 of 3 or both of 2, else missing."
    ),
    "rsq": (
        "Restorative Sleep Questionnaire, weekly form: items 7, 8, 9 reversed as 6 - x (project rule), "
        "`rsq_total` = (mean of answered items - 1) x 25, 0..100; missing with fewer than 5 answered."
    ),
    "poms": (
        "Profile of Mood States (65 items): subscales TA, DD, AH, FI, CB, VA, FR with items 22 and 54 "
        "reversed as 4 - x; a subscale with at most 20% of its items blank is the mean of the answered x "
        "its number of items (project rule), else missing. `poms_tmd` = TA + DD + AH + FI + CB - VA "
        "(-32..200, no +100 offset), missing when any of the six is; `poms_tmd_n_subscales` counts the "
        "six that are available."
    ),
}


def _metadata(scores: pd.DataFrame, instrument: Instrument) -> dict[str, object]:
    return {
        "dagster/row_count": len(scores),
        "missing_scores": dg.MetadataValue.json(missing_scores(scores, instrument)),
        "score_distribution": dg.MetadataValue.md(markdown_preview(score_distribution(scores, instrument), rows=50)),
        "preview": dg.MetadataValue.md(markdown_preview(scores)),
    }


def _ranges(instrument: Instrument) -> str:
    return ", ".join(f"{col} {lo:g}..{hi:g}" for col, (lo, hi) in instrument.ranges.items())


def score_spec(instrument: Instrument) -> dg.AssetSpec:
    """The ``<instrument>_scores`` asset as the UI shows it (selectable on its own)."""
    return dg.AssetSpec(instrument.asset_name, group_name=GROUP,
                        description=DESCRIPTIONS[instrument.name] + _COMMON, kinds={"pandas", "duckdb"})


def range_check_spec(instrument: Instrument) -> dg.AssetCheckSpec:
    """Warns when any score of the table lies outside its published range (INSTRUMENTS.md)."""
    return dg.AssetCheckSpec(f"{instrument.asset_name}_in_range", asset=instrument.asset_name,
                             description=f"Every score inside its published range: {_ranges(instrument)}.")


def range_check(scores: pd.DataFrame, instrument: Instrument) -> dg.AssetCheckResult:
    """The range check of one instrument's freshly scored table (WARN)."""
    counts = out_of_range(scores, instrument)
    return dg.AssetCheckResult(
        asset_key=instrument.asset_name, check_name=f"{instrument.asset_name}_in_range",
        passed=not any(counts.values()), severity=dg.AssetCheckSeverity.WARN,
        metadata={"out_of_range": dg.MetadataValue.json(counts), "ranges": _ranges(instrument)},
    )


@dg.multi_asset(
    name="questionnaire_scores",
    outs={i.asset_name: dg.AssetOut.from_spec(score_spec(i), dagster_type=pd.DataFrame, is_required=False)
          for i in INSTRUMENTS},
    check_specs=[range_check_spec(i) for i in INSTRUMENTS],
    ins={"questionnaire_items": dg.AssetIn(key=QUESTIONNAIRE_ITEMS)},
    can_subset=True,
)
def score_assets(context: dg.AssetExecutionContext, questionnaire_items: pd.DataFrame):
    """Every selected ``<instrument>_scores`` with its range check, in one step so that
    ``questionnaire_items`` (one row per item: 1.8M rows at 5000 participants) is read once."""
    for instrument in INSTRUMENTS:
        if dg.AssetKey(instrument.asset_name) not in context.selected_asset_keys:
            continue
        scores = score_instrument(questionnaire_items, instrument)
        yield dg.Output(scores, output_name=instrument.asset_name, metadata=_metadata(scores, instrument))
        yield range_check(scores, instrument)


ASSETS: list[dg.AssetsDefinition] = [score_assets]
CHECKS: list[dg.AssetChecksDefinition] = []

"""Ingest: raw files to clean tables and the quarantine (DATA_CONTRACT.md, docs/TABLES.md).

One asset group per source. Each source is one multi-asset that writes its clean table(s), its
``<source>_quarantine`` entries (what was rejected) and its ``<source>_set_aside`` entries (what was
not read or not used, and why), and reports on each clean table the check ``no_quarantined_rows``
(severity ERROR, failing while the source has quarantined input). The ``quarantine`` and
``set_aside`` assets (group ``data_quality``) union the sources' entries. Raw inputs are observable
source assets (``raw_<source>``, whose data version is the fingerprint of their files), so lineage
starts at the files. The logic lives in ``mglt_pipeline.sources``; assets call it and attach metadata.
"""

import warnings
from typing import Iterator

import dagster as dg
from dagster import AssetExecutionContext
import pandas as pd

from mglt_pipeline.automation.fingerprint import raw_asset_key, source_state
from mglt_pipeline.resources import DataRoot
from mglt_pipeline.sources.oura import read_oura
from mglt_pipeline.sources.oura_collections import ANALYSED
from mglt_pipeline.sources.redcap import read_redcap
from mglt_pipeline.sources.trial_files import known_participants, read_diary, read_participants, read_randomization
from mglt_pipeline.validation import oura_rules
from mglt_pipeline.validation.quarantine import Ingested, concat_quarantine, concat_set_aside

QUARANTINE_GROUP = "data_quality"
NO_QUARANTINED_ROWS = "no_quarantined_rows"
SOURCE_TABLES = {
    "participants": ("participants",),
    "randomization": ("randomization",),
    "oura": tuple(c.table for c in ANALYSED),
    "redcap": ("questionnaire_items",),
    "diary": ("diary_entries",),
}
RAW_DESCRIPTIONS = {
    "participants": "raw/participants.csv: one row per enrolled participant.",
    "randomization": "raw/randomization.csv and optional raw/unblinding.csv.",
    "oura": "raw/oura/<participant_id>/*: Oura API v2 responses, the account data export (JSON and "
            "CSV) or the web Trends CSV.",
    "redcap": "raw/redcap/*.csv: REDCap flat exports (one row per participant and event), data dictionary.",
    "diary": "raw/diary/*.csv: daily diary exports, one row per participant and date.",
}


def raw_spec(source: str) -> dg.AssetSpec:
    """``raw_<source>``: the source's raw files, as the UI shows them."""
    return dg.AssetSpec(raw_asset_key(source), group_name=source, kinds={"csv"} if source != "oura" else {"json", "csv"},
                        description=RAW_DESCRIPTIONS[source] + " Data version: the fingerprint of its files.")


def raw_sources(sources=tuple(RAW_DESCRIPTIONS)) -> dg.AssetsDefinition:
    """The raw sources, observed: each one's data version is the fingerprint of its settled files
    (automation.fingerprint), with their count, size and newest file as metadata. A run observes the
    sources it reads first, so the UI shows when each source's data changed and what is stale."""
    with warnings.catch_warnings():  # observable sources are a beta API of Dagster 1.x
        warnings.simplefilter("ignore", dg.BetaWarning)

        @dg.multi_observable_source_asset(name="observe_raw_sources", specs=[raw_spec(s) for s in sources],
                                          can_subset=True, required_resource_keys={"data_root"})
        def observe(context: AssetExecutionContext):
            for source in sources:
                key = dg.AssetKey(raw_asset_key(source))
                if key in context.selected_asset_keys:
                    state = source_state(context.resources.data_root.raw, source)
                    yield dg.ObserveResult(asset_key=key, data_version=dg.DataVersion(state.fingerprint),
                                           metadata=state.metadata())

    return observe


RAW_SOURCES = [raw_sources()]


def quarantine_key(source: str) -> str:
    return f"{source}_quarantine"


def set_aside_key(source: str) -> str:
    return f"{source}_set_aside"


def ingest_metadata(result: Ingested) -> dict:
    """What a clean asset produced: the four counts that add up to the rows read, and a preview."""
    return {
        "rows_read": result.rows_read,
        "rows_clean": result.rows_clean,
        "rows_quarantined": result.rows_quarantined,
        "rows_superseded": result.rows_superseded,
        "rows_set_aside": result.rows_set_aside,
        "dagster/row_count": len(result.clean),
        "quarantine_entries": len(result.quarantine),
        "files_read": dg.MetadataValue.json(result.files),
        "identifier_columns_dropped": dg.MetadataValue.json(result.dropped_identifiers),
        "columns_ignored": dg.MetadataValue.json(result.columns_ignored),
        "free_text_redactions": result.redactions,
        "source_error": dg.MetadataValue.text(result.error or ""),
        "preview": dg.MetadataValue.md(result.clean.head(10).to_markdown(index=False)),
    }


def quarantine_check(table: str, entries: pd.DataFrame) -> dg.AssetCheckResult:
    """ERROR while the table's source input has quarantine entries; metadata: count by rule."""
    by_rule = entries["rule"].value_counts().head(50).to_dict() if len(entries) else {}
    return dg.AssetCheckResult(
        asset_key=table, check_name=NO_QUARANTINED_ROWS, passed=len(entries) == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"quarantine_entries": len(entries), "by_rule": dg.MetadataValue.json(by_rule)})


def _emit(context: AssetExecutionContext, source: str, results: dict[str, Ingested],
          source_quarantine: pd.DataFrame | None = None, source_set_aside: pd.DataFrame | None = None,
          set_aside_metadata: dict | None = None) -> Iterator:
    """Outputs, quarantine entries and checks of one source's clean tables. ``source_quarantine``
    and ``source_set_aside`` are entries of the source that belong to no one table (an unreadable
    file that could feed several); each table's check counts the source's entries too."""
    for table, result in results.items():
        for file, columns in result.dropped_identifiers.items():
            context.log.warning(f"dropped direct-identifier columns {', '.join(columns)} from {file}")
        if result.error:
            context.log.error(f"{table}: {result.error}")
        if result.redactions:
            context.log.warning(f"{table}: replaced {result.redactions} e-mail addresses and phone numbers "
                                "in free text by [redacted]")
        yield dg.Output(result.clean, output_name=table, metadata=ingest_metadata(result))
        yield quarantine_check(table, concat_quarantine([result.quarantine, source_quarantine]))
    entries = concat_quarantine([*(r.quarantine for r in results.values()), source_quarantine])
    yield dg.Output(entries, output_name=quarantine_key(source),
                    metadata={"dagster/row_count": len(entries),
                              "preview": dg.MetadataValue.md(entries.head(20).to_markdown(index=False))})
    set_aside = concat_set_aside([*(r.set_aside_entries for r in results.values()), source_set_aside])
    yield dg.Output(set_aside, output_name=set_aside_key(source),
                    metadata={"dagster/row_count": len(set_aside), **(set_aside_metadata or {}),
                              "preview": dg.MetadataValue.md(set_aside.head(20).to_markdown(index=False))})


def _paths(context: AssetExecutionContext) -> tuple:
    """The raw folder and the data root of the run."""
    data_root: DataRoot = context.resources.data_root
    return data_root.raw, data_root.root


def _source_specs(source: str) -> list[dg.AssetSpec]:
    """The clean tables and the quarantine entries of one source."""
    return [dg.AssetSpec(t, group_name=source, kinds={"pandas", "duckdb"},
                         description=f"Clean {t} (docs/TABLES.md).") for t in SOURCE_TABLES[source]] + [
        dg.AssetSpec(quarantine_key(source), group_name=source, kinds={"pandas", "duckdb"},
                     description=f"Quarantine entries of the {source} files."),
        dg.AssetSpec(set_aside_key(source), group_name=source, kinds={"pandas", "duckdb"},
                     description=f"Files, folders and rows of the {source} input not read or not used, "
                                 "with the reason.")]


def _source_outs(source: str) -> dict[str, dg.AssetOut]:
    """The outputs of one source's multi-asset, stored by the IO manager (pandas to DuckDB)."""
    return {spec.key.to_python_identifier(): dg.AssetOut.from_spec(spec, dagster_type=pd.DataFrame)
            for spec in _source_specs(source)}


def _check_specs(source: str) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(NO_QUARANTINED_ROWS, asset=t,
                              description=f"Fails while the {source} input has quarantined rows or files.")
            for t in SOURCE_TABLES[source]]


def _ingest(source: str, reads_participants: bool = True):
    """The multi-asset of one source: its clean table(s), its quarantine entries and its checks,
    from its raw files (and, but for participants.csv itself, the known participants: the clean
    ones and those listed twice, whose conflict is in the participants' quarantine)."""
    ins = {"participants": dg.AssetIn("participants"),
           "participants_quarantine": dg.AssetIn(quarantine_key("participants"))}
    return dg.multi_asset(name=f"ingest_{source}", outs=_source_outs(source), required_resource_keys={"data_root"},
                          deps=[raw_asset_key(source)], check_specs=_check_specs(source),
                          ins=ins if reads_participants else None)


@_ingest("participants", reads_participants=False)
def participants_assets(context: AssetExecutionContext):
    """participants.csv, direct identifiers dropped at the door."""
    yield from _emit(context, "participants", {"participants": read_participants(*_paths(context))})


@_ingest("randomization")
def randomization_assets(context: AssetExecutionContext, participants: pd.DataFrame,
                         participants_quarantine: pd.DataFrame):
    """randomization.csv with the arm names of unblinding.csv (null while blinded)."""
    result, unblinded = read_randomization(*_paths(context), known_participants(participants, participants_quarantine))
    context.log.info("arms unblinded" if unblinded else "no usable unblinding.csv: arms stay A and B")
    yield from _emit(context, "randomization", {"randomization": result})


@_ingest("oura")
def oura_assets(context: AssetExecutionContext, participants: pd.DataFrame, participants_quarantine: pd.DataFrame):
    """The four analysed Oura collections of every participant folder, whichever way they arrived."""
    read = read_oura(*_paths(context), known_participants(participants, participants_quarantine))
    yield from _emit(context, "oura", read.tables, read.quarantine, read.set_aside,
                     {"records_set_aside_by_collection": dg.MetadataValue.json(read.records_set_aside)})


@_ingest("redcap")
def redcap_assets(context: AssetExecutionContext, participants: pd.DataFrame, participants_quarantine: pd.DataFrame):
    """REDCap exports, wide to long: one row per participant, event, instrument and item."""
    result = read_redcap(*_paths(context), known_participants(participants, participants_quarantine))
    yield from _emit(context, "redcap", {"questionnaire_items": result})


@_ingest("diary")
def diary_assets(context: AssetExecutionContext, participants: pd.DataFrame, participants_quarantine: pd.DataFrame):
    """Daily diary exports, one row per participant and date (dates judged against the study)."""
    result = read_diary(*_paths(context), known_participants(participants, participants_quarantine), participants)
    yield from _emit(context, "diary", {"diary_entries": result})


@dg.asset(name="quarantine", group_name=QUARANTINE_GROUP, kinds={"pandas", "duckdb"},
          ins={quarantine_key(s): dg.AssetIn(quarantine_key(s)) for s in SOURCE_TABLES})
def quarantine_asset(participants_quarantine: pd.DataFrame, randomization_quarantine: pd.DataFrame,
                     oura_quarantine: pd.DataFrame, redcap_quarantine: pd.DataFrame,
                     diary_quarantine: pd.DataFrame) -> dg.Output:
    """Every quarantine entry of every source: what was rejected, where, and by which rule."""
    table = concat_quarantine([participants_quarantine, randomization_quarantine, oura_quarantine,
                               redcap_quarantine, diary_quarantine])
    return dg.Output(table, metadata={
        "dagster/row_count": len(table),
        "by_source": dg.MetadataValue.json(table["source"].value_counts().to_dict()),
        "preview": dg.MetadataValue.md(table.head(20).to_markdown(index=False)),
    })


@dg.asset(name="set_aside", group_name=QUARANTINE_GROUP, kinds={"pandas", "duckdb"},
          ins={set_aside_key(s): dg.AssetIn(set_aside_key(s)) for s in SOURCE_TABLES})
def set_aside_asset(**parts: pd.DataFrame) -> dg.Output:
    """Every file, folder and row of every source that was not read or not used, with the reason:
    nothing is skipped without a word (DATA_CONTRACT.md)."""
    table = concat_set_aside([parts[set_aside_key(s)] for s in SOURCE_TABLES])
    return dg.Output(table, metadata={
        "dagster/row_count": len(table),
        "by_source": dg.MetadataValue.json(table["source"].value_counts().to_dict()),
        "preview": dg.MetadataValue.md(table.head(20).to_markdown(index=False)),
    })


SLEEP_PERIOD_RULES = {
    "stage_durations_add_up": (oura_rules.stage_sum_mismatches,
                               "deep + light + rem = total_sleep_duration (INSTRUMENTS.md, Oura)."),
    "time_in_bed_adds_up": (oura_rules.time_in_bed_mismatches,
                            "total_sleep_duration + awake_time = time_in_bed (INSTRUMENTS.md, Oura)."),
    "efficiency_matches_durations": (oura_rules.efficiency_mismatches,
                                     "efficiency = round-half-up(100 x total / time_in_bed) (INSTRUMENTS.md, Oura)."),
}
@dg.multi_asset_check(
    name="oura_sleep_period_rules",
    specs=[dg.AssetCheckSpec(name, asset="oura_sleep_periods", description=text)
           for name, (_, text) in SLEEP_PERIOD_RULES.items()],
)
def sleep_period_rules(oura_sleep_periods: pd.DataFrame):
    """The identities that hold in real Oura data (WARN): one result per rule, listing the periods
    that break it; the table is read once for all of them."""
    for name, (rule, _) in SLEEP_PERIOD_RULES.items():
        broken = rule(oura_sleep_periods)
        yield dg.AssetCheckResult(
            asset_key="oura_sleep_periods", check_name=name, passed=broken.empty,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"periods_checked": len(oura_sleep_periods), "periods_breaking_rule": len(broken),
                      "examples": dg.MetadataValue.md(broken.head(10).to_markdown(index=False))})


CHECKS = [sleep_period_rules]

ASSETS = [participants_assets, randomization_assets, oura_assets, redcap_assets,
          diary_assets, quarantine_asset, set_aside_asset]
__all__ = ["ASSETS", "CHECKS", "RAW_SOURCES"]

"""``make pull``: run the configured API pulls once on the data root, then say what landed.

Configuration comes from the environment (README, "Pulling from the APIs"): ``OURA_API_BASE_URL``,
``MGLT_OURA_TOKENS``, ``REDCAP_API_URL``, ``REDCAP_API_TOKEN``, ``REDCAP_PROJECT``. Uses the
persistent Dagster instance of ``$DAGSTER_HOME`` when set (the Makefile sets it under the data
root), so the pulls show in ``make ui``; otherwise an ephemeral one. Exit status 2 when nothing is
configured, 1 when a pull failed.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import dagster as dg

from mglt_pipeline.defs.pull import PULL_JOB_NAME
from mglt_pipeline.definitions import build_definitions
from mglt_pipeline.pull.resources import configured_pulls
from mglt_pipeline.pull.tokens import token_file_path
from mglt_pipeline.resources import default_data_root

SUMMARY_KEYS = ("participants_in_token_file", "participants_pulled", "pages_written", "days_new",
                "records_restated", "failures_by_kind", "export_file", "export_rows", "dictionary_written")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_root", nargs="?", type=Path, default=None,
                        help="data root (default: $MGLT_DATA_DIR or the repository's data/)")
    root = (parser.parse_args(argv).data_root or default_data_root()).resolve()
    keys, missing = configured_pulls(token_file_path(root))
    for sentence in missing:
        print(sentence)
    if not keys:
        return 2
    job = build_definitions(root).resolve_job_def(PULL_JOB_NAME)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, raise_on_error=False,
                                    asset_selection=[dg.AssetKey(k) for k in keys])
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        shown = {k: v.value for k, v in materialization.metadata.items() if k in SUMMARY_KEYS}
        print(f"{materialization.asset_key.to_user_string()}: {shown}")
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            print(f"failed: {event.step_key}: {event.event_specific_data.error.message.strip()}", file=sys.stderr)
    print(f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'}")
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())

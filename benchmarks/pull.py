"""How long an Oura pull takes, and how it grows with the trial and the number of workers.

For each trial size: simulate a trial (not timed), put every participant's Oura account behind the
tests' stand-in API on 127.0.0.1 (the recorded responses, pages of 10 records), then time
- the first pull (every participant's whole window: 8 pages, 53 records each),
- a second pull with nothing new (the last days re-asked, nothing written),
and print seconds, requests per second, files written and the peak resident memory. The stand-in
server runs in this process on the same cores, so the figures bound the pull's own cost from
above; the real API's latency (about 0.1-0.5 s a request) is what the ``workers`` hide.

    python benchmarks/pull.py --participants 100 1000 --workers 4 16
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mglt_pipeline.pull.http import RetryPolicy  # noqa: E402
from mglt_pipeline.pull.oura_api import OuraClient  # noqa: E402
from mglt_pipeline.pull.oura_run import OuraPullSettings, run_oura_pull  # noqa: E402
from mglt_pipeline_tests.pull_fixtures import pull_trial, write_token_file  # noqa: E402
from mglt_pipeline_tests.recorded_api import ApiServer  # noqa: E402


def one_size(participants: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        api, tokens = pull_trial(root, participants=participants)
        token_file = write_token_file(root, tokens)
        settings = OuraPullSettings(workers=workers, requests_per_token=500)
        figures = {"participants": participants, "workers": workers}
        with ApiServer(api) as server:
            client = OuraClient(server.url, RetryPolicy())
            for label in ("first", "again"):
                served = len(api.log)
                started = time.perf_counter()
                run = run_oura_pull(root, token_file, client, settings, datetime.now(timezone.utc))
                seconds = time.perf_counter() - started
                figures[f"{label}_s"] = seconds
                figures[f"{label}_requests_per_s"] = (len(api.log) - served) / seconds
                figures[f"{label}_pages_written"] = sum(o.pages_written for o in run.outcomes)
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, nargs="+", default=[100])
    parser.add_argument("--workers", type=int, nargs="+", default=[4])
    args = parser.parse_args(argv)
    print("| participants | workers | first pull s | requests/s | pages written | pull again s | requests/s "
          "| pages written | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.participants:
        for workers in args.workers:
            f = one_size(n, workers)
            print(f"| {n} | {workers} | {f['first_s']:.1f} | {f['first_requests_per_s']:.0f} | "
                  f"{f['first_pages_written']} | {f['again_s']:.1f} | {f['again_requests_per_s']:.0f} | "
                  f"{f['again_pages_written']} | {f['peak_rss_mb']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

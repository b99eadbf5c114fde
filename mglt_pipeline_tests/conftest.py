"""Test order for one test file per worker (``make test``: pytest-xdist ``--dist loadfile``).

Files marked ``whole_pipeline(runs=N)`` materialize the whole asset graph N times (10-30 s each, a
kill test's partial runs counted as one each). They are handed out first, most runs first, so that
the short files fill in around them and no worker is left running a long file alone at the end.
Only the order changes: every test runs as before.
"""
from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "whole_pipeline(runs): the file materializes the whole asset graph "
                                       "`runs` times (scheduled first, most runs first)")


def whole_pipeline_runs(item: pytest.Item) -> int:
    marker = item.get_closest_marker("whole_pipeline")
    return marker.kwargs.get("runs", 1) if marker is not None else 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: -whole_pipeline_runs(item))  # stable: a file's tests stay together

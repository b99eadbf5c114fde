"""Test order for one test file per worker (``make test``: pytest-xdist ``--dist loadfile``).

Files marked ``whole_pipeline`` (they materialize the whole asset graph, some several times: a minute
or more each) are handed out first, so that the short files fill in around them and no worker is
left running a long file alone at the end. Only the order changes: every test runs as before.
"""
from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "whole_pipeline: the file materializes the whole asset graph (scheduled first)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("whole_pipeline") is None)  # stable: files stay whole

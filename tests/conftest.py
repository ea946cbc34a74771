"""Shared test helpers: the location of the shared reference data (skip when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def reference_data_dir() -> Path | None:
    env = os.environ.get("DARKSCAN_REFERENCE_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None


@pytest.fixture
def reference_data() -> Path:
    path = reference_data_dir()
    if path is None:
        pytest.skip("shared/reference/data not found (set DARKSCAN_REFERENCE_DATA)")
    return path

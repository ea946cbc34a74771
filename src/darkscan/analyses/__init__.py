"""Searches, one declarative file each, run by :func:`darkscan.analyses.runner.run_analysis`."""

from __future__ import annotations

import importlib

from darkscan.analyses.base import Analysis

_REGISTRY: dict[str, str] = {
    "invisible-zprime": "darkscan.analyses.invisible_zprime",
}


def analysis_names() -> list[str]:
    return list(_REGISTRY)


def get_analysis(name: str) -> Analysis:
    if name not in _REGISTRY:
        raise ValueError(f"unknown analysis '{name}'; valid: {analysis_names()}")
    return importlib.import_module(_REGISTRY[name]).ANALYSIS

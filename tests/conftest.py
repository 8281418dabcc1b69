"""Shared fixtures: where the shared data lives, and skipping cleanly when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


def shared_path(*parts) -> Path:
    """Path under ../shared/data, or skip the test with a message if it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data not found at {p} (tests that need ../shared/data skip without it)")
    return p


@pytest.fixture
def shared():
    return shared_path

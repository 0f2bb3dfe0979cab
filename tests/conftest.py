"""Shared pytest fixtures for riskmap."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from riskmap._paths import DATA_DIR, default_sources_dir

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The bundled data folder (data/)."""
    return DATA_DIR


@pytest.fixture(scope="session")
def sources_dir() -> Path:
    """The public source datasets (../shared/data/sources); skipped outside CI if absent."""
    p = default_sources_dir()
    if not p.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"source datasets not found at {p} (CI must have ../shared beside the clone)")
        pytest.skip(f"source datasets not found at {p}")
    return p


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Folder for test artifacts (screenshots, rendered pages)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Debian's chromium; fails (not skips) in CI when missing."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI must apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return path

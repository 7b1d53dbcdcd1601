"""Hypothesis profiles (tests/conftest.py): a short run by default, the full counts in CI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.conftest import examples

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def profile() -> Iterator[None]:
    current = settings.get_current_profile_name()
    yield
    settings.load_profile(current)


def test_a_tests_own_count_is_full_in_ci_and_a_tenth_by_default(profile: None) -> None:
    settings.load_profile("ci")
    assert (examples(2000), examples(30), settings.default.max_examples) == (2000, 30, 100)
    settings.load_profile("dev")
    assert (examples(2000), examples(30), examples(10)) == (200, 20, 10)
    assert settings.default.max_examples == 50


def test_ci_runs_the_suite_under_the_ci_profile() -> None:
    run = (ROOT / ".ci" / "run").read_text()
    assert "export HYPOTHESIS_PROFILE=ci\n" in run and "\npython -m pytest\n" in run

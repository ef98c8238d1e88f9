"""Fixtures of the decision-engine tests."""

from __future__ import annotations

import pytest

from trustramp.decide import Policy

from .plans import make_policy


@pytest.fixture
def policy() -> Policy:
    """The seed-table plan in its first phase (beta)."""
    return make_policy()

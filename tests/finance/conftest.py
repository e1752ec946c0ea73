"""Fixtures of the finance tests."""

from tests.factories.finance import enqueued, settle  # noqa: F401 (fixtures)

"""Fixtures shared by the platform adapters' tests."""

from tests.fixtures.outlets import outlets

__all__ = ["outlets"]

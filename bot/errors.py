"""One exception hierarchy.

Expected failures (a broken feed, a bad command, a platform refusing a message) are turned into
values in results by the code that expects them; only bugs propagate as unexpected exceptions.
"""

from __future__ import annotations


class InfrawireError(Exception):
    """Base of every error infrawire raises on purpose."""


class ConfigError(InfrawireError):
    """A configuration value is missing or invalid; the message names the key."""


class InputError(InfrawireError):
    """An input file or line cannot be used; the message names the file and line."""


class StoreError(InfrawireError):
    """The database cannot be used (for example it is newer than this code)."""


class FeedError(InfrawireError):
    """Fetching or parsing a feed failed. `permanent` errors count toward disabling it."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class UnsafeURLError(FeedError):
    """The URL is not allowed: wrong scheme, or it resolves to a private or local address."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


class CommandError(InfrawireError):
    """A chat command cannot be carried out; the message is the reply to the user."""

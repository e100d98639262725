"""Settings: a TOML file validated once, plus secrets from the environment only.

Every section has defaults, so an empty (or absent) file runs the embedded setup: a SQLite file,
the extractive summarizer and the console adapter.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Section):
    path: str = "infrawire.db"  # SQLite file; relative paths are relative to the config file
    retention_days: int = Field(90, ge=1)


class FeedSettings(_Section):
    url: str
    title: str | None = None
    allow_private: bool = False  # let a config feed point at a private or loopback host
    backfill: bool = False  # alert old items on the first poll too


class PollSettings(_Section):
    interval_s: int = Field(900, ge=10)
    min_interval_s: int = Field(300, ge=1)
    max_interval_s: int = Field(86_400, ge=60)
    jitter: float = Field(0.1, ge=0, le=0.5)
    max_consecutive_errors: int = Field(10, ge=1)
    connect_timeout_s: float = Field(10, gt=0)
    read_timeout_s: float = Field(30, gt=0)
    total_timeout_s: float = Field(60, gt=0)
    max_body_bytes: int = Field(5_000_000, ge=1024)
    max_redirects: int = Field(5, ge=0, le=20)
    per_host_concurrency: int = Field(2, ge=1)
    global_concurrency: int = Field(16, ge=1)
    max_age_hours: float = Field(24, gt=0)  # a new feed's first poll alerts nothing older
    first_poll_max_alerts: int = Field(3, ge=0)
    user_agent: str = "infrawire/0.1 (+https://github.com/infrawire/infrawire)"


class VocabularyExtension(_Section):
    """User additions to the shipped vocabulary (see bot/core/taxonomy)."""

    organizations: dict[str, list[str]] = {}  # canonical name -> aliases
    products: dict[str, list[str]] = {}
    regulators: dict[str, list[str]] = {}
    places: dict[str, list[str]] = {}
    people: dict[str, list[str]] = {}
    topic_terms: dict[str, list[str]] = {}  # topic -> extra terms that signal it


class CoreSettings(_Section):
    story_window_hours: float = Field(96, gt=0)
    vocabulary: VocabularyExtension = VocabularyExtension()


class SummarizerSettings(_Section):
    backend: Literal["extractive", "llm"] = "extractive"


class LLMSettings(_Section):
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "local-model"
    api_key_env: str = "INFRAWIRE_LLM_API_KEY"
    timeout_s: float = Field(30, gt=0)
    deadline_s: float = Field(45, gt=0)
    max_concurrency: int = Field(2, ge=1)
    max_input_chars: int = Field(12_000, ge=500)
    requests_per_minute: int = Field(30, ge=1)
    tokens_per_day: int = Field(2_000_000, ge=1000)


class DispatchSettings(_Section):
    interval_s: float = Field(5, gt=0)
    max_attempts: int = Field(8, ge=1)
    backoff_base_s: float = Field(10, gt=0)
    backoff_cap_s: float = Field(3600, gt=0)


class SlackSettings(_Section):
    enabled: bool = False
    mode: Literal["http", "socket"] = "http"
    http_host: str = "127.0.0.1"
    http_port: int = Field(3000, ge=1, le=65535)
    http_path: str = "/slack/events"
    api_base_url: str = "https://slack.com/api/"
    admin_user_ids: list[str] = []
    command_prefix: str = ""  # e.g. "iw-" turns /recap into /iw-recap where names clash
    pace_s: float = 1.0  # minimum gap between two messages in one channel (0: no pacing)
    admin_cache_ttl_s: float = 600.0  # how long a users.info admin answer is trusted


class DiscordWebhook(_Section):
    name: str
    url_env: str  # the environment variable holding the webhook URL (it is a secret)


class DiscordSettings(_Section):
    enabled: bool = False
    api_base_url: str = "https://discord.com/api/v10"
    guild_ids: list[int] = []
    webhooks: list[DiscordWebhook] = []
    application_id: int | None = None  # for `infrawire discord invite-url`
    # A rate-limit wait longer than this is handed back to the dispatcher instead of slept out.
    max_ratelimit_wait_s: float = Field(30, ge=30)


class Settings(_Section):
    log_level: str = "INFO"
    store: StoreSettings = StoreSettings()
    poll: PollSettings = PollSettings()
    feeds: list[FeedSettings] = []
    core: CoreSettings = CoreSettings()
    summarizer: SummarizerSettings = SummarizerSettings()
    llm: LLMSettings = LLMSettings()
    dispatch: DispatchSettings = DispatchSettings()
    slack: SlackSettings = SlackSettings()
    discord: DiscordSettings = DiscordSettings()

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        reason = item["msg"]
        if item["type"] == "extra_forbidden":
            reason = "unknown key"
        lines.append(f"{key}: {reason}")
    return "; ".join(lines)


def parse_settings(data: Mapping[str, Any], *, source: str = "config") -> Settings:
    try:
        return Settings.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None


def load_settings(path: str | Path | None) -> Settings:
    """Read and validate a TOML file; `None` gives the embedded defaults.

    A relative store path is resolved against the config file's folder.
    """
    if path is None:
        return Settings()
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not UTF-8 text") from None
    settings = parse_settings(raw, source=str(file))
    store_path = Path(settings.store.path)
    if not store_path.is_absolute() and settings.store.path != ":memory:":
        store = settings.store.model_copy(update={"path": str(file.parent / store_path)})
        settings = settings.model_copy(update={"store": store})
    return settings


def secret(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """A secret from the environment (never from the file); empty counts as unset."""
    value = (env if env is not None else os.environ).get(name, "")
    return value or None

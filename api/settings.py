"""Configuration from the environment, with the variable names fixed by the client contract."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.locations import LocationGrid
from domain.queue import QueuePolicy

DEVELOPMENT_JWT_SECRET = "audience-development-secret-do-not-use-in-production"
#: the shortest signing secret a real store accepts (contract §7): HS256 keys should be at least
#: as long as the hash, RFC 7518 §3.2
MIN_JWT_SECRET_BYTES = 32
#: names that always mean this machine
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class ConfigurationError(RuntimeError):
    """The settings cannot be used as they stand; the message says which one and why."""


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (``127.0.0.1``, ``::1``, localhost)."""
    name = host.strip().strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:  # any other host name may resolve to a public address
        return False


class Settings(BaseSettings):
    """Every knob the server reads. Environment names are the field names upper-cased."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    mongodb_url: str | None = None
    mongodb_db: str = "audience"
    host: str = "127.0.0.1"
    port: int = 8000
    audience_jwt_secret: str | None = None
    audience_demo: bool = False
    #: demo world size; the defaults give a few hundred creators and a few thousand viewers
    audience_demo_creators: int = 300
    audience_demo_viewers: int = 3000
    audience_demo_seed: int = 7
    audience_log_level: str = "INFO"
    #: ``text`` (people) or ``json`` (log collectors); ``audience --log-format`` overrides it
    audience_log_format: Literal["text", "json"] = "text"
    #: run the queue worker inside the API process (always on for the embedded store, which no
    #: other process can reach)
    audience_inline_worker: bool | None = None
    #: queue policy (domain/queue.py): how long a claimed job belongs to its worker, attempts
    #: before a job is marked failed, jobs per pass, idle wait between passes
    audience_worker_lease_seconds: float = Field(default=60.0, gt=0)
    audience_worker_max_attempts: int = Field(default=5, ge=1)
    audience_worker_batch_size: int = Field(default=100, ge=1, le=1000)
    audience_worker_poll_seconds: float = Field(default=1.0, gt=0)
    audience_introspection: bool = True
    #: comma-separated origins whose pages may call the API (CORS); empty: none
    audience_cors_origins: str = ""
    #: the largest cost an operation without a token may request: only introspection runs
    #: without one (contract §2), and 300 admits one standard introspection query (about
    #: 230, schema/cost.py) but not two
    audience_anonymous_max_cost: int = Field(default=300, ge=0)
    #: automatic persisted queries one caller may register (contract §8)
    audience_persisted_queries_per_caller: int = Field(default=200, ge=0)
    audience_max_depth: int = 12
    audience_max_aliases: int = 30
    audience_max_tokens: int = 2000
    audience_max_cost: int = 5000
    audience_rate_limit_cost_per_minute: int = 60_000
    audience_config_cache_seconds: float = Field(default=2.0, ge=0)
    #: locations are snapped to H3 cells of about this size (contract §7; domain/locations.py)
    audience_location_cell_km: float = Field(default=5.0, gt=0, le=1000)

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.audience_cors_origins.split(",")
                if o.strip()]

    @property
    def embedded(self) -> bool:
        return not self.mongodb_url

    @property
    def inline_worker(self) -> bool:
        """Run the worker loop in the API process: by default only on the embedded store,
        which no worker process can reach."""
        if self.audience_inline_worker is None:
            return self.embedded
        return self.audience_inline_worker

    def location_grid(self) -> LocationGrid:
        return LocationGrid.of_km(self.audience_location_cell_km)

    def queue_policy(self) -> QueuePolicy:
        return QueuePolicy(lease=timedelta(seconds=self.audience_worker_lease_seconds),
                           max_attempts=self.audience_worker_max_attempts,
                           batch_size=self.audience_worker_batch_size,
                           poll_seconds=self.audience_worker_poll_seconds)

    def jwt_secret(self) -> str:
        """The signing secret; the embedded store alone may fall back to a development one.

        Raises :class:`ConfigurationError` for a real store without a secret of at least
        :data:`MIN_JWT_SECRET_BYTES` bytes (a start-up error, contract §7)."""
        if self.audience_jwt_secret:
            if (not self.embedded
                    and len(self.audience_jwt_secret.encode("utf-8")) < MIN_JWT_SECRET_BYTES):
                raise ConfigurationError(
                    f"AUDIENCE_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes when "
                    "MONGODB_URL is set")
            return self.audience_jwt_secret
        if self.embedded:
            return DEVELOPMENT_JWT_SECRET
        raise ConfigurationError("AUDIENCE_JWT_SECRET must be set when MONGODB_URL is set")

    @property
    def uses_development_secret(self) -> bool:
        return not self.audience_jwt_secret

    @property
    def require_token_expiry(self) -> bool:
        """Tokens that never expire are refused on a real store (contract §7)."""
        return not self.embedded

    def check_bind(self, host: str) -> None:
        """Refuse to serve beyond this machine with a secret anyone can read: the public
        development one, or one too short to resist guessing."""
        if is_loopback(host):
            return
        secret = self.jwt_secret()
        if self.uses_development_secret:
            raise ConfigurationError(
                f"refusing to listen on {host}: tokens would be signed with the public "
                "development secret; set AUDIENCE_JWT_SECRET (at least "
                f"{MIN_JWT_SECRET_BYTES} bytes) or listen on 127.0.0.1")
        if len(secret.encode("utf-8")) < MIN_JWT_SECRET_BYTES:
            raise ConfigurationError(
                f"refusing to listen on {host}: AUDIENCE_JWT_SECRET must be at least "
                f"{MIN_JWT_SECRET_BYTES} bytes")

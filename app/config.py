"""Settings read from the environment (and an optional `.env` file)."""

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # The embedded default; production points this at PostgreSQL.
    database_url: str = "sqlite:///./relief.db"
    # How long a writer waits for the SQLite write lock before the request is retried.
    sqlite_busy_timeout_ms: int = 30_000
    # How often a request is re-run after a deadlock, serialization failure or lock time-out.
    transaction_retries: int = 5
    default_page_size: int = 50
    max_page_size: int = 500
    # JSON bodies are small; a route may raise its own limit (bank statement files).
    max_body_bytes: int = 1024 * 1024
    # The transparency log (docs/auditors.md): checkpoint origins are `<log_origin>/<code>`,
    # a schema-less URL; the Ed25519 key that signs them (0600; `relief signing-key create`);
    # and how stale a campaign's last checkpoint may grow while entries arrive (0: never
    # issue one on a timer).
    log_origin: str = "relief-ledger.localhost"
    signing_key_path: str = "./relief-signing.key"
    checkpoint_interval_s: int = 3600
    # Log lines: one JSON object per line for log collectors, or plain text for a person
    # at a terminal (`make run`); the level of the service's own loggers (libraries: warnings).
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # GET /metrics (Prometheus text format, no key): off when the port is reachable by
    # people who should not read the service's traffic figures (docs/operations.md).
    metrics_enabled: bool = True
    # The IATI export (docs/api.md, "IATI"): who publishes it. The ref is the publisher's
    # organisation identifier, `{registration agency}-{number}` (see org-id.guide), and
    # prefixes every activity's identifier; set it before publishing. The type is from
    # IATI's OrganisationType codelist (15: other public sector).
    iati_reporting_org_ref: str = "VN-RELIEF-LEDGER"
    iati_reporting_org_name: str = "Ủy ban Mặt trận Tổ quốc Việt Nam"
    iati_reporting_org_type: str = "15"


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Log lines: one JSON object per line (`LOG_FORMAT=json`, the default) or plain text for
a person at a terminal (`LOG_FORMAT=text`, `make run`).

structlog renders every record, the service's own (`structlog.get_logger`) and the
standard library's (SQLAlchemy, uvicorn, `logging.getLogger(__name__)`), through one
handler on the root logger, with the time (UTC), level, logger name and whatever the
request bound (its `request_id`, see `app.requests`). uvicorn's access log is switched
off: `app.requests.AccessMiddleware` writes one line per request instead, with the route
template, the key id (never the token) and the campaign.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import structlog
from structlog.typing import Processor

LogFormat = Literal["json", "text"]
ACCESS_LOGGER = "relief.access"
_OWN_LOGGERS = ("app", "relief")

# What every line carries, whichever library logged it.
_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter of the service's log lines (a test can give it its own handler)."""
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.processors.format_exc_info],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


class _ServiceHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler `configure` installs (and replaces when called again)."""


def configure(log_format: LogFormat, level: str = "INFO") -> None:
    """Send every log record to stderr as `log_format` lines; switch uvicorn's access log
    off (one line per request comes from `AccessMiddleware`). Safe to call again."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ServiceHandler)]:
        root.removeHandler(old)
    handler = _ServiceHandler()
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    # LOG_LEVEL is the service's own loggers'; libraries (httpx, SQLAlchemy …) say only
    # warnings and worse, and uvicorn keeps its own `--log-level`.
    root.setLevel(logging.WARNING)
    for name in _OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    # uvicorn's own lines (start-up, errors) go through the same handler.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True


def access(**fields: Any) -> None:
    """Write one request's access line (`relief.access`, event `request`)."""
    status = fields.get("status", 0)
    logger = structlog.get_logger(ACCESS_LOGGER)
    if isinstance(status, int) and status >= 500:
        logger.warning("request", **fields)
    else:
        logger.info("request", **fields)

"""Automatic checkpoints: a campaign with new entries gets one once its last checkpoint is
older than `checkpoint_interval_s`. A daemon thread of the service looks every
`min(interval, 60 s)`; several processes may look at once, since `issue` takes the
campaign's ledger lock and returns the checkpoint already issued at that size."""

from __future__ import annotations

import logging
import threading

from app.config import get_settings
from app.db import Database
from app.keys import scope
from app.keys.scope import Principal
from app.transparency import service, signing

log = logging.getLogger(__name__)
ACTOR = Principal.system("relief checkpoint interval")


def run_once(database: Database) -> list[str]:
    """Issue every checkpoint that is due; returns the campaigns' codes. Looks first in a
    read-only session, so a quiet minute never takes SQLite's write lock."""
    if signing.load() is None:
        return []
    with database.session(read_only=True) as session:
        if not service.due(session):
            return []
    with scope.acting_as(database, ACTOR) as session:
        return service.issue_due(session)


def start(database: Database) -> threading.Event:
    """Start the checker (unless the interval is 0); set the returned event to stop it."""
    stop = threading.Event()
    interval = get_settings().checkpoint_interval_s
    if interval <= 0:
        return stop

    def loop() -> None:
        while not stop.wait(min(interval, 60)):
            try:
                issued = run_once(database)
            except Exception:  # a lost race or a database restart: try again next time
                log.exception("automatic checkpoints failed")
                continue
            if issued:
                log.info("automatic checkpoints: %s", ", ".join(issued))

    threading.Thread(target=loop, name="checkpoint-interval", daemon=True).start()
    return stop

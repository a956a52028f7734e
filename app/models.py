"""Every table, imported in one place so Alembic and the tests see the whole schema, and the
audit log that watches their writes."""

import app.audit.log  # noqa: F401 - every commit that writes is audited
from app.allocations.models import Allocation
from app.audit.models import AuditEvent, AuditHead
from app.campaigns.models import Campaign
from app.contributions.models import Contribution, ContributionReversal
from app.db import Base
from app.donors.models import Donor
from app.feed.models import FeedPost, FeedSecret
from app.idempotency.models import IdempotencyRecord
from app.items.models import Item
from app.keys.models import ApiKey
from app.ledger.models import LedgerAccount, LedgerEntry, LedgerHead, LedgerPosting
from app.locations.models import Location
from app.pledges.models import Pledge
from app.receiving_accounts.models import ReceivingAccount
from app.transparency.models import AuditorKey, Checkpoint, Cosignature, SigningKey, TreeNode
from app.units.models import Unit

__all__ = [
    "Allocation",
    "ApiKey",
    "AuditEvent",
    "AuditHead",
    "AuditorKey",
    "Base",
    "Campaign",
    "Checkpoint",
    "Contribution",
    "ContributionReversal",
    "Cosignature",
    "Donor",
    "FeedPost",
    "FeedSecret",
    "IdempotencyRecord",
    "Item",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerHead",
    "LedgerPosting",
    "Location",
    "Pledge",
    "ReceivingAccount",
    "SigningKey",
    "TreeNode",
    "Unit",
]

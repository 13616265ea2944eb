"""Who ran what, and what practitioners said: the audit trail and the review ledger.
"""

from geo_risk.governance.audit import (
    GENESIS,
    append,
    default_log,
    file_digest,
    verify,
)
from geo_risk.governance.review import (
    DECISIONS,
    FORM_COLUMNS,
    import_reviews,
    latest_summary,
    read_ledger,
    review_form,
)

__all__ = [
    "DECISIONS",
    "FORM_COLUMNS",
    "GENESIS",
    "append",
    "default_log",
    "file_digest",
    "import_reviews",
    "latest_summary",
    "read_ledger",
    "review_form",
    "verify",
]

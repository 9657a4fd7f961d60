"""Column types and helpers shared by every model module."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import JSON, Numeric

# Unit prices of electronic components go below a cent (0.0125), totals do not.
UnitPrice = Numeric(12, 4, asdecimal=True)
Money = Numeric(14, 2, asdecimal=True)
Percent = Numeric(5, 2, asdecimal=True)
Json = JSON().with_variant(JSON(none_as_null=True), "mysql")

CENT = Decimal("0.01")
UNIT = Decimal("0.0001")


def utcnow() -> datetime:
    """Naive UTC now: DATETIME columns on MariaDB and SQLite carry no zone."""
    return datetime.now(UTC).replace(tzinfo=None)

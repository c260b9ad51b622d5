"""Decimals and times as the REST API writes them, without importing DRF.

The socket's frames (``trading.events``) and the API's serializers write an order the same way, and
the frames are built inside services, which must not pull in the API layer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

# Long time series are rendered from ``values_list`` rows with these instead of a
# serializer per row (a 1,000-bar page took ten times longer through
# ModelSerializer). They give exactly what DRF's fields give for the same
# value (tests pin the bytes): decimals as fixed-point strings with the
# field's places, times in ISO 8601 in the current time zone with "Z" for UTC.


def api_decimal(value: Decimal | int, step: Decimal) -> str:
    """``value`` as ``serializers.DecimalField`` renders it; ``step`` is ``Decimal("0.0001")`` for 4 places."""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))  # as DRF does: a service may have set an int (reserved_amount = 0)
    return f"{value.quantize(step):f}"


def api_datetime(value: datetime) -> str:
    """An aware ``value`` as ``serializers.DateTimeField`` renders it."""
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text

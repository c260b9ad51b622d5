"""The order state machine: which event may move an order from which state.

Only ``new`` orders change; every other state is final. Every status change
goes through ``order_transition`` so an illegal one is impossible rather than
merely unlikely.
"""

from __future__ import annotations

from django.utils import timezone

from core.errors import ServiceError
from trading.models import Order, OrderStatus

ORDER_NOT_OPEN = "order_not_open"


class OrderEvent:
    FILL = "fill"
    CANCEL = "cancel"
    EXPIRE = "expire"
    REJECT = "reject"


ORDER_EVENTS = (OrderEvent.FILL, OrderEvent.CANCEL, OrderEvent.EXPIRE, OrderEvent.REJECT)

TRANSITIONS: dict[tuple[str, str], str] = {
    (OrderStatus.NEW, OrderEvent.FILL): OrderStatus.FILLED,
    (OrderStatus.NEW, OrderEvent.CANCEL): OrderStatus.CANCELED,
    (OrderStatus.NEW, OrderEvent.EXPIRE): OrderStatus.EXPIRED,
    (OrderStatus.NEW, OrderEvent.REJECT): OrderStatus.REJECTED,
}


def next_status(status: str, event: str) -> str:
    """The status ``event`` leads to from ``status``; a ServiceError when it is not allowed."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise ServiceError(ORDER_NOT_OPEN, f"The order is {status} and can no longer {event}.", status=422) from None


def order_transition(order: Order, event: str, *, reason: str = "") -> None:
    """Move a locked order to its next state and release what it held. Caller saves the account/position."""
    order.status = next_status(order.status, event)
    order.reserved_amount = 0
    order.closed_at = timezone.now()
    if reason:
        order.reason = reason[:200]

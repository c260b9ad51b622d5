"""What an order request is: its fields, the rules they obey, and the one parser that enforces them.

The ticket form, the REST API, GraphQL and the services all validate an order
through ``OrderRequest.parse``; the ticket's page renders the rules
(``PRICE_TYPES``, the price step and bounds, the largest quantity) into the
form's attributes, where ``static/js/ticket.js`` reads them.

A refusal is an ``OrderRequestError``: a ``ServiceError`` whose ``code`` and
``detail`` are those of the first problem found (in the order the fields are
listed) and whose ``fields`` name every problem by field, for a form to show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Required, TypedDict, Unpack

from core.errors import ServiceError
from core.money import clean_price
from trading.models import OrderSide, OrderType, TimeInForce

INVALID_ORDER = "invalid_order"
INVALID_QUANTITY = "invalid_quantity"
INVALID_CLIENT_ORDER_ID = "invalid_client_order_id"

MAX_ORDER_QUANTITY = 1_000_000
CLIENT_ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# The order types that use each price field.
PRICE_TYPES: dict[str, tuple[str, ...]] = {
    "limit_price": (OrderType.LIMIT, OrderType.STOP_LIMIT),
    "stop_price": (OrderType.STOP, OrderType.STOP_LIMIT),
}

ERROR_QUANTITY = "quantity must be a whole number of shares."
ERROR_LIMIT_REQUIRED = "A limit price is required for this order type."
ERROR_STOP_REQUIRED = "A stop price is required for this order type."
ERROR_CLIENT_ORDER_ID = "client_order_id must be 1-64 letters, digits, '.', '_', ':' or '-'."
_REQUIRED = {"limit_price": ERROR_LIMIT_REQUIRED, "stop_price": ERROR_STOP_REQUIRED}


class OrderFields(TypedDict, total=False):
    """The keyword arguments of an order request, as every caller passes them."""

    symbol: Required[str]
    side: Required[str]
    type: str
    time_in_force: str
    quantity: Required[int | str]
    limit_price: Decimal | str | None
    stop_price: Decimal | str | None
    client_order_id: str | None


class OrderRequestError(ServiceError):
    """The request breaks a rule; ``fields`` maps each field to its messages."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        _, code, detail = problems[0]
        super().__init__(code, detail)
        self.fields: dict[str, list[str]] = {}
        for name, _, message in problems:
            self.fields.setdefault(name, []).append(message)


def _quantity(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(ERROR_QUANTITY)
    try:
        quantity = int(value)
    except ValueError:
        raise ValueError(ERROR_QUANTITY) from None
    if not 1 <= quantity <= MAX_ORDER_QUANTITY:
        raise ValueError(f"quantity must be between 1 and {MAX_ORDER_QUANTITY} shares.")
    return quantity


@dataclass(frozen=True)
class OrderRequest:
    """A valid order request; build it with ``parse``."""

    symbol: str
    side: str
    type: str
    time_in_force: str
    quantity: int
    limit_price: Decimal | None
    stop_price: Decimal | None
    client_order_id: str | None = None

    @classmethod
    def parse(cls, **fields: Unpack[OrderFields]) -> OrderRequest:
        """The request, or an ``OrderRequestError`` naming every field that breaks a rule."""
        problems: list[tuple[str, str, str]] = []
        side = fields.get("side")
        type_ = fields.get("type", OrderType.MARKET)
        time_in_force = fields.get("time_in_force", TimeInForce.DAY)
        for name, value, choices in (
            ("side", side, OrderSide.values),
            ("type", type_, OrderType.values),
            ("time_in_force", time_in_force, TimeInForce.values),
        ):
            if value not in choices:
                problems.append((name, INVALID_ORDER, f"{name} must be one of {', '.join(choices)}."))
        quantity = 0
        try:
            quantity = _quantity(fields.get("quantity"))
        except ValueError as exc:
            problems.append(("quantity", INVALID_QUANTITY, str(exc)))
        prices: dict[str, Decimal | None] = {"limit_price": None, "stop_price": None}
        if type_ in OrderType.values:
            given = {name: fields.get(name) for name in prices}
            for name, types in PRICE_TYPES.items():
                if type_ in types and given[name] is None:
                    problems.append((name, INVALID_ORDER, _REQUIRED[name]))
                elif type_ not in types and given[name] is not None:
                    problems.append((name, INVALID_ORDER, f"A {type_} order takes no {name}."))
            for name, types in PRICE_TYPES.items():
                if type_ in types and given[name] is not None:
                    try:
                        prices[name] = clean_price(given[name], what=name)
                    except ServiceError as exc:
                        problems.append((name, exc.code, exc.detail))
        client_order_id = fields.get("client_order_id") or None
        if client_order_id is not None and (
            not isinstance(client_order_id, str) or not CLIENT_ORDER_ID_PATTERN.match(client_order_id)
        ):
            problems.append(("client_order_id", INVALID_CLIENT_ORDER_ID, ERROR_CLIENT_ORDER_ID))
        if problems:
            raise OrderRequestError(problems)
        return cls(
            symbol=fields["symbol"],
            side=side,
            type=type_,
            time_in_force=time_in_force,
            quantity=quantity,
            limit_price=prices["limit_price"],
            stop_price=prices["stop_price"],
            client_order_id=client_order_id,
        )

    def same_order(self, order) -> bool:
        """Whether ``order`` (a ``trading.models.Order``) is this request, for a replayed client_order_id."""
        mine = (self.side, self.type, self.time_in_force, self.quantity, self.limit_price, self.stop_price)
        theirs = (order.side, order.type, order.time_in_force, order.quantity, order.limit_price, order.stop_price)
        return mine == theirs

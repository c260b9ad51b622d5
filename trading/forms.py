"""The order ticket on a stock's page."""

from __future__ import annotations

from django import forms

from core.input_middleware import ControlCharacterFormMixin
from core.money import MAX_PRICE, MIN_PRICE, PRICE_PLACES
from trading.models import OrderSide, OrderType, TimeInForce
from trading.orders import (
    CLIENT_ORDER_ID_PATTERN,
    ERROR_LIMIT_REQUIRED,
    ERROR_STOP_REQUIRED,
    MAX_ORDER_QUANTITY,
    PRICE_TYPES,
    OrderRequest,
    OrderRequestError,
)

__all__ = ["ERROR_LIMIT_REQUIRED", "ERROR_STOP_REQUIRED", "OrderTicketForm"]

# The form's fields that make the request (the symbol comes from the page).
_FIELDS = ("side", "type", "time_in_force", "quantity", "limit_price", "stop_price", "client_order_id")


def _price_field(label: str, name: str) -> forms.DecimalField:
    # The widget renders min, max and step from these; data-order-types tells static/js/ticket.js
    # which order types use the field.
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=MIN_PRICE,
        max_value=MAX_PRICE,
        decimal_places=PRICE_PLACES,
        widget=forms.NumberInput(attrs={"data-order-types": " ".join(PRICE_TYPES[name])}),
    )


class OrderTicketForm(ControlCharacterFormMixin, forms.Form):
    """The ticket's fields; ``clean`` validates the order through ``OrderRequest.parse``.

    After ``is_valid()``, ``order_request`` is the parsed request (for the stock given as ``symbol``).
    """

    side = forms.ChoiceField(choices=OrderSide.choices, initial=OrderSide.BUY)
    type = forms.ChoiceField(label="Order type", choices=OrderType.choices, initial=OrderType.MARKET)
    quantity = forms.IntegerField(label="Shares", min_value=1, max_value=MAX_ORDER_QUANTITY, initial=1)
    limit_price = _price_field("Limit price", "limit_price")
    stop_price = _price_field("Stop price", "stop_price")
    time_in_force = forms.ChoiceField(label="Time in force", choices=TimeInForce.choices, initial=TimeInForce.DAY)
    # Made when the ticket is reviewed, so a double-clicked confirmation places one order.
    client_order_id = forms.RegexField(regex=CLIENT_ORDER_ID_PATTERN, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, symbol: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.symbol = symbol
        self.order_request: OrderRequest | None = None

    def clean(self) -> dict:
        data = super().clean()
        order_type = data.get("type")
        # Prices that do not apply to the chosen type are dropped, not refused:
        # without JavaScript the ticket shows both fields whatever the type.
        for name, types in PRICE_TYPES.items():
            if order_type not in types:
                data[name] = None
        try:
            self.order_request = OrderRequest.parse(symbol=self.symbol, **{name: data.get(name) for name in _FIELDS})
        except OrderRequestError as exc:
            for name, messages in exc.fields.items():
                # A field that was given but refused (0, too many places...) already has its own
                # error; "required" on top of it would contradict it.
                if name not in self.errors:
                    for message in messages:
                        self.add_error(name, message)
        return data

"""The order ticket on a stock's page."""

from __future__ import annotations

from django import forms

from core.input_middleware import ControlCharacterFormMixin
from core.money import MAX_PRICE, MIN_PRICE
from trading.models import OrderSide, OrderType, TimeInForce
from trading.services.common import MAX_ORDER_QUANTITY

NEEDS_LIMIT = (OrderType.LIMIT, OrderType.STOP_LIMIT)
NEEDS_STOP = (OrderType.STOP, OrderType.STOP_LIMIT)
ERROR_LIMIT_REQUIRED = "A limit price is required for this order type."
ERROR_STOP_REQUIRED = "A stop price is required for this order type."
CLIENT_ORDER_ID = r"^[A-Za-z0-9._:-]{1,64}$"


class OrderTicketForm(ControlCharacterFormMixin, forms.Form):
    side = forms.ChoiceField(choices=OrderSide.choices, initial=OrderSide.BUY)
    type = forms.ChoiceField(label="Order type", choices=OrderType.choices, initial=OrderType.MARKET)
    quantity = forms.IntegerField(label="Shares", min_value=1, max_value=MAX_ORDER_QUANTITY, initial=1)
    limit_price = forms.DecimalField(
        label="Limit price", required=False, min_value=MIN_PRICE, max_value=MAX_PRICE, decimal_places=4
    )
    stop_price = forms.DecimalField(
        label="Stop price", required=False, min_value=MIN_PRICE, max_value=MAX_PRICE, decimal_places=4
    )
    time_in_force = forms.ChoiceField(label="Time in force", choices=TimeInForce.choices, initial=TimeInForce.DAY)
    # Made when the ticket is reviewed, so a double-clicked confirmation places one order.
    client_order_id = forms.RegexField(regex=CLIENT_ORDER_ID, required=False, widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        order_type = data.get("type")
        # A price that was given but refused (0, too many places...) already has its own
        # error; "required" on top of it would contradict it.
        if order_type in NEEDS_LIMIT and data.get("limit_price") is None and "limit_price" not in self.errors:
            self.add_error("limit_price", ERROR_LIMIT_REQUIRED)
        if order_type in NEEDS_STOP and data.get("stop_price") is None and "stop_price" not in self.errors:
            self.add_error("stop_price", ERROR_STOP_REQUIRED)
        # Prices that do not apply to the chosen type are dropped, not refused:
        # without JavaScript the ticket shows both fields whatever the type.
        if order_type not in NEEDS_LIMIT:
            data["limit_price"] = None
        if order_type not in NEEDS_STOP:
            data["stop_price"] = None
        return data

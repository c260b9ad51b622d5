"""The trading REST API (``/api/v1/``), shaped after Alpaca's trading API; routes in ``trading.api_urls``.

One module per resource: ``orders``, ``portfolio`` (account, positions, activity, history),
``market`` (assets, bars, quotes), ``watchlists``, ``alerts`` (alerts and notifications).
Views parse input, call one selector or service, and render. Visibility and ownership are
the selectors' business; errors are rendered by ``core.api.exception_handler``.
"""

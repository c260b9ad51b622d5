"""Market data, paper-trading accounts, orders, fills and positions."""

"""Market data: the built-in simulated feed and the runner that records its ticks through the services."""

"""Market data feeds: the built-in simulator, CSV importers, and the runner that records ticks."""

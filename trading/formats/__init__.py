"""The file formats the importers read (price bars, the listing): parsing only, no writes.

Apart from ``trading.market`` (the live feed, which records through the services), so that
the services that write what these parse can import them without a cycle.
"""

"""What every app shares: errors, input parsing, API helpers, money, configuration and the realtime hub.

Nothing here imports an app or the project package; the apps and the wiring in `stockchat/` import it."""

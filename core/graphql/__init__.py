"""Shared GraphQL plumbing (viewer, limits, hub streams) the apps build their schema parts on."""

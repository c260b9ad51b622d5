"""Running stockchat on AWS: S3 storages, production middleware, JSON logs.

Everything here is switched on from the environment by ``stockchat/settings.py``;
with no AWS variables the app runs exactly as it does locally.
"""

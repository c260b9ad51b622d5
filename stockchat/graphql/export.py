"""Writes the schema to docs/schema.graphql: ``python -m stockchat.graphql.export`` (``make graphql-schema``).

``stockchat/tests/test_graphql.py`` fails when the file and the code differ.
"""

from __future__ import annotations

import os
from pathlib import Path

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "schema.graphql"


def schema_text() -> str:
    from stockchat.graphql.schema import schema

    return schema.as_str() + "\n"


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stockchat.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    django.setup()
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()

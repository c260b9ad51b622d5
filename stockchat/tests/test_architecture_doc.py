"""docs/architecture.md names real modules: every path and dotted name in it exists.

The walks of an order and of a chat message are only worth reading while they name the
code as it is; a rename that leaves the document behind fails here.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("core", "accounts", "trading", "chat", "stockchat")
CODE = re.compile(r"`([^`]+)`")


def _tokens() -> list[str]:
    prose = re.sub(r"^```.*?^```", "", DOC.read_text(), flags=re.DOTALL | re.MULTILINE)  # diagrams
    return sorted({token for token in CODE.findall(prose) if " " not in token})


def _paths() -> list[str]:
    return [t for t in _tokens() if "/" in t and not t.startswith("/") and "<" not in t and "{" not in t]


def _dotted() -> list[str]:
    names = [t for t in _tokens() if re.fullmatch(r"[a-z_]+(\.[A-Za-z_]+)+", t)]
    return [t for t in names if t.split(".")[0] in PACKAGES]


def _resolves(name: str) -> bool:
    # In the order the running site imports them (core.api, imported before DRF's views,
    # would meet DRF reading its parser setting from the half-imported module).
    importlib.import_module("stockchat.urls")
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def test_the_document_names_some_code():
    assert len(_paths()) > 10
    assert len(_dotted()) > 20


@pytest.mark.parametrize("path", _paths())
def test_every_path_exists(path):
    assert (ROOT / path).exists(), path


@pytest.mark.parametrize("name", _dotted())
def test_every_dotted_name_is_code_or_a_socket_frame(name):
    root, second = name.split(".")[:2]
    if (ROOT / root / f"{second}.py").exists() or (ROOT / root / second).is_dir():
        assert _resolves(name), name
    else:
        # chat.send, chat.message.created...: frame types, which the AsyncAPI document lists.
        assert name in (ROOT / "docs" / "asyncapi.yaml").read_text(), name


def test_the_origin_check_is_named_as_the_code_has_it():
    # stockchat/asgi.py uses its own exact origin check, not Channels' AllowedHostsOriginValidator.
    assert "SiteOriginValidator(" in (ROOT / "stockchat" / "asgi.py").read_text()
    for document in (DOC, ROOT / "README.md"):
        assert "AllowedHostsOriginValidator" not in document.read_text(), document

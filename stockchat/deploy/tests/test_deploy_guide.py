"""docs/deploy.md is followed to the letter: its commands must not depend on the reader's defaults."""

from __future__ import annotations

import re

from stockchat.deploy.tests.conftest import ROOT

GUIDE = (ROOT / "docs/deploy.md").read_text()


def commands() -> list[str]:
    """Every AWS and EB CLI invocation in the guide: code blocks (continuations joined) and inline code."""
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE, re.DOTALL)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    inline = re.findall(r"`([^`\n]*\b(?:aws|eb) [^`]*)`", GUIDE.replace("\n", " "))
    found = []
    for text in lines + inline:
        text = text.split("#")[0]
        for part in re.split(r"\$\(|\||&&|;", text):
            part = part.strip().strip('"')
            # "`eb deploy`" in a sentence names a command; an invocation has arguments.
            if re.match(r"(aws|eb) [a-z]", part) and len(part.split()) > 2:
                found.append(part)
    return found


def test_every_aws_and_eb_command_names_its_region():
    found = commands()
    assert len(found) > 30  # the parser sees the guide's commands
    missing = [c for c in found if "--region" not in c and not c.startswith(("eb --", "aws --"))]
    assert not missing, missing


def test_every_image_build_names_its_platform():
    builds = re.findall(r"docker buildx build[^\n]*", GUIDE)
    assert builds
    assert all("--platform" in b for b in builds)
    assert not re.search(r"docker build ", GUIDE)

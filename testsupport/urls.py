"""The site's URL patterns as routes a test can fill in: one walker for the tests that visit every page."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

# `<converter:name>` or `<name>` in a route.
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _regex_literal(regex: str) -> str | None:
    """A path the regex matches, for the simple regexes the admin uses; None when there is none to guess."""
    text = regex.removeprefix("^").removesuffix("\\Z").removesuffix("$")
    # (?P<app_label>auth|accounts|…) -> the first alternative
    text = re.sub(r"\(\?P<\w+>([\w-]+)(?:\|[^)]*)?\)", r"\1", text)
    return None if re.search(r"[()\[\]*+?\\]", text) else text


def _part(entry: URLPattern | URLResolver) -> str | None:
    pattern = entry.pattern
    if isinstance(pattern, RoutePattern):
        return str(pattern)
    if isinstance(pattern, RegexPattern):
        return _regex_literal(pattern.regex.pattern)
    raise AssertionError(f"unknown URL pattern kind {type(pattern)!r}")  # pragma: no cover


def site_routes(*, skip_prefixes: tuple[str, ...] = ()) -> list[str]:
    """Every URL pattern of the site as a route (no leading slash) with its parameters left in.

    Regex patterns count by the literal path they match; those without one are left out.
    Includes whose route starts with one of ``skip_prefixes`` are not walked.
    """
    routes: set[str] = set()

    def walk(resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            part = _part(entry)
            if part is None:
                continue
            if isinstance(entry, URLResolver):
                if not (prefix + part).startswith(skip_prefixes):
                    walk(entry, prefix + part)
            else:
                routes.add(prefix + part)

    walk(get_resolver(), "")
    return sorted(routes)


def fill_route(route: str, value: Callable[[re.Match], str]) -> str:
    """The path of ``route`` with each parameter replaced by ``value(match)`` (groups ``converter``, ``name``)."""
    return "/" + PARAMETER.sub(value, route)

"""Limits on what one GraphQL document may ask for, checked before anything runs.

Depth, aliases and tokens use Strawberry's validators; the cost rule here weighs
each field by the page sizes of the lists around it (``first``), so one request
cannot ask for a thousand pages of a thousand rows. Introspection (``__schema``,
``__type``) is exempt: it is an open API and its documents are deep by nature.
Each refusal is a validation error with a stable ``extensions.code``.
"""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.extensions.query_depth_limiter import IgnoreContext

from core.graphql.base import DEFAULT_PAGE, MAX_PAGE
from core.inputs import ERROR_CONTROL_CHARACTER, has_forbidden_characters

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000
MAX_COST = 5000

ERROR_TOO_COMPLEX = "too_complex"


def _introspection(context: IgnoreContext) -> bool:
    return context.field_name.startswith("__")


def _page(field: FieldNode) -> int:
    """The rows a field may return: its ``first`` (a variable counts as the largest page)."""
    for argument in field.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(1, int(argument.value.value))
            return MAX_PAGE
    return 1


class CostLimit(ValidationRule):
    """Refuses an operation whose fields, times the pages around them, add up past ``MAX_COST``."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
        cost = self._cost(node.selection_set, 1, set())
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"The query would cost {cost}, above the limit of {MAX_COST}: ask for smaller pages "
                    f"(first, default {DEFAULT_PAGE}) or fewer fields.",
                    node,
                    extensions={"code": ERROR_TOO_COMPLEX},
                )
            )

    def _cost(self, selections: SelectionSetNode | None, multiplier: int, seen: set[str]) -> int:
        if selections is None:
            return 0
        cost = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                cost += multiplier
                cost += self._cost(selection.selection_set, multiplier * _page(selection), seen)
            elif isinstance(selection, InlineFragmentNode):
                cost += self._cost(selection.selection_set, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in seen:  # cycles are reported by the spec's rules
                    cost += self._cost(fragment.selection_set, multiplier, seen | {name})
        return cost


class NoControlCharacters(ValidationRule):
    """Refuses string literals that decode (``"\\u0000"``) to NUL, other control characters or
    lone surrogates: the raw body holds none, so the body check cannot see them."""

    def enter_string_value(self, node: StringValueNode, *_args) -> None:
        if has_forbidden_characters(node.value):
            self.report_error(
                GraphQLError(
                    "A string in the query contains a control character, which is not allowed.",
                    node,
                    extensions={"code": ERROR_CONTROL_CHARACTER},
                )
            )


def limit_extensions() -> list:
    # Factories: Strawberry builds a fresh extension per request from each.
    return [
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH, should_ignore=_introspection),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules([CostLimit, NoControlCharacters]),
    ]

"""A small PromQL reader for the dashboard check: it tokenises an expression, checks that its
brackets balance and its functions exist, and returns the metric names it selects. Label
matchers, grouping lists, ranges and Grafana's `$variables` are read past, not mistaken for
metrics."""

import re

FUNCTIONS = frozenset(
    [
        "abs",
        "absent",
        "absent_over_time",
        "avg",
        "avg_over_time",
        "bottomk",
        "ceil",
        "changes",
        "clamp",
        "clamp_max",
        "clamp_min",
        "count",
        "count_over_time",
        "count_values",
        "day_of_month",
        "day_of_week",
        "delta",
        "deriv",
        "exp",
        "floor",
        "group",
        "histogram_quantile",
        "holt_winters",
        "idelta",
        "increase",
        "irate",
        "label_join",
        "label_replace",
        "last_over_time",
        "ln",
        "log10",
        "log2",
        "max",
        "max_over_time",
        "min",
        "min_over_time",
        "predict_linear",
        "quantile",
        "quantile_over_time",
        "rate",
        "resets",
        "round",
        "scalar",
        "sgn",
        "sort",
        "sort_desc",
        "sqrt",
        "stddev",
        "stdvar",
        "sum",
        "sum_over_time",
        "time",
        "timestamp",
        "topk",
        "vector",
    ]
)
KEYWORDS = frozenset(
    [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
    ]
)
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
    | (?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?)
    | (?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
    | (?P<variable>\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)
    | (?P<open>[({\[])
    | (?P<close>[)}\]])
    | (?P<operator>==|!=|>=|<=|=~|!~|[-+*/%^<>=,:@])
    )""",
    re.VERBOSE,
)
_GROUPS = ("by", "without")
_PAIRS = {")": "(", "}": "{", "]": "["}


class PromQLError(ValueError):
    """An expression this reader cannot read."""


def metric_names(expression: str) -> set[str]:
    """The metric names `expression` selects."""
    names: set[str] = set()
    stack: list[str] = []
    position = 0
    tokens: list[tuple[str, str]] = []
    while position < len(expression.rstrip()):
        match = _TOKEN.match(expression, position)
        if match is None:
            raise PromQLError(f"unreadable at {expression[position:]!r} in {expression!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    grouping = False  # inside by (...) / without (...) / on (...) and the like
    for index, (kind, text) in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else ("", "")
        if kind == "open":
            stack.append(text)
        elif kind == "close":
            if not stack or stack.pop() != _PAIRS[text]:
                raise PromQLError(f"unbalanced {text!r} in {expression!r}")
            grouping = False
        elif kind == "name" and not stack_inside(stack, "{", "[") and not grouping:
            if text in KEYWORDS:
                grouping = text not in ("and", "or", "unless", "bool", "offset")
            elif following == ("open", "(") or (text in FUNCTIONS and following[1] in _GROUPS):
                if text not in FUNCTIONS:
                    raise PromQLError(f"unknown function {text!r} in {expression!r}")
            elif text not in ("inf", "nan"):
                names.add(text)
    if stack:
        raise PromQLError(f"unclosed {stack[-1]!r} in {expression!r}")
    return names


def stack_inside(stack: list[str], *brackets: str) -> bool:
    """Whether the innermost open bracket is one of `brackets` (label matchers, ranges)."""
    return bool(stack) and stack[-1] in brackets

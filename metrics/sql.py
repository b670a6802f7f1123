"""The one place where identifiers and config expressions become SQL text.

Values never become SQL text: they travel as bound parameters ($name). Identifiers (table and
column names) come only from validated config and are checked against a strict pattern and
quoted here. Config expressions (a metric's `expr` and `filter`) are written by the people who
own config.yaml, validated at start-up by compiling them (metrics.compute.sqlcheck), and may only refer to
declared parameters as {name}, which become bound parameters.
"""
from __future__ import annotations

import functools
import re

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_FORBIDDEN = re.compile(r";|--|/\*|\$")


def is_identifier(text: str) -> bool:
    """True for a plain lower-case SQL name (letters, digits, underscore)."""
    return bool(_IDENT.match(text))


def ident(name: str) -> str:
    """Quote a validated identifier; raises ValueError for anything else."""
    if not is_identifier(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return f'"{name}"'


def literal(text: str) -> str:
    """A SQL string literal (quotes doubled), for the few places DuckDB takes no parameter: COPY's file name."""
    return "'" + str(text).replace("'", "''") + "'"


def expression(text: str, params: dict[str, str]) -> str:
    """Turn a config expression into SQL, replacing {name} with the bound parameter params[name].

    Args:
        text: the expression from config.yaml.
        params: placeholder name → SQL parameter reference (e.g. '$m0_business_days').
    Returns:
        SQL text. Raises ValueError for statement separators, comments or raw parameters.
    """
    if _FORBIDDEN.search(text):
        raise ValueError(f"config expressions may not contain ';', comments or '$': {text!r}")
    return PLACEHOLDER.sub(lambda m: params[m.group(1)], text)


def mentions(text: str | None, name: str) -> bool:
    """True when an expression refers to the column or derived column `name`."""
    return bool(text) and re.search(rf"\b{re.escape(name)}\b", text) is not None


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def conjuncts(text: str) -> list[str]:
    """A config expression split at its top-level ANDs — 'a = 1 AND (b OR c)' → ['a = 1', '(b OR c)'] — so two
    filters can share what they have in common. ANDs inside quotes, parentheses and CASE … END are not split; an
    expression with a BETWEEN (whose AND is not a conjunction) or a top-level OR (which binds looser) is returned
    whole."""
    return list(_conjuncts(text))


@functools.lru_cache(maxsize=4096)              # config expressions are few and fixed: each is split once
def _conjuncts(text: str) -> tuple[str, ...]:
    parts, start, depth, case, i = [], 0, 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "'\"":                                   # a string or quoted name: skip to its closing quote
            j = i + 1
            while j < len(text) and not (text[j] == ch and text[j + 1:j + 2] != ch):
                j += 2 if text[j] == ch else 1
            i = j + 1
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif _WORD.match(text, i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            word = _WORD.match(text, i).group(0)
            upper = word.upper()
            if upper == "CASE":
                case += 1
            elif upper == "END" and case:
                case -= 1
            elif upper == "BETWEEN" or (upper == "OR" and depth == 0 and case == 0):
                return (text.strip(),)            # not a conjunction at the top: kept whole
            elif upper == "AND" and depth == 0 and case == 0:
                parts.append(text[start:i].strip())
                start = i + len(word)
            i += len(word)
            continue
        i += 1
    parts.append(text[start:].strip())
    return tuple(p for p in parts if p)


def replace_names(text: str, names: dict[str, str]) -> str:
    """A config expression with each bare column name in `names` replaced by its SQL in parentheses — a derived
    column written into the expressions that use it, in place of a subquery computing it. Quoted text, quoted
    names and qualified names (x.name) are left alone."""
    if not names:
        return text
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch in "'\"":
            j = i + 1
            while j < len(text) and not (text[j] == ch and text[j + 1:j + 2] != ch):
                j += 2 if text[j] == ch else 1
            out.append(text[i:j + 1])
            i = j + 1
            continue
        word = _WORD.match(text, i)
        if word and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_.")):
            name = word.group(0)
            out.append(f"({names[name]})" if name in names else name)
            i += len(name)
            continue
        out.append(ch)
        i += 1
    return "".join(out)

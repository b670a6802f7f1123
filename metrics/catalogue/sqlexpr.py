"""Expressions written in a mapping profile or in config.yaml: parsed, checked, and rendered from the check.

A profile's `expr` and `drop.when`, and config.yaml's metric `expr` and `filter` and a source's `filter`
and `derived` columns, are each ONE SQL scalar expression over a row's own columns. They are never
pasted into a query as they were written: SQLGlot parses them with DuckDB's dialect, and the tree may hold
only columns (unqualified, from the list the caller allows), literals, CASE, CAST/TRY_CAST, comparisons,
boolean logic, arithmetic, `||`, IN lists, LIKE/ILIKE, INTERVALs and the functions in FUNCTIONS. Anything
else — a subquery, a table function (read_csv, glob, query), file, environment or setting access
(read_text, getenv, current_setting), a statement (`;`, DDL, COPY, ATTACH, PRAGMA), a comment, `*`, a
parameter, a lambda, an escape or dollar-quoted string — is refused with one sentence naming where it is
and what is allowed.

What runs is rendered from the checked tree (`render`), then parsed and checked once more, so the text
DuckDB reads is the text that was checked; DuckDB's own tokenizer must also agree with SQLGlot on where
every string starts and see no comment, so a difference between the two parsers cannot hide anything.
Config expressions keep their own text (checked with `{name}` placeholders standing in as NULL): their
figures are the organisation's promises, and re-rendering must not move a number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError

from metrics.errors import ConfigError
from metrics.sql import PLACEHOLDER

# Functions an expression may call, by the name DuckDB runs them under (the checked tree is rendered for
# DuckDB before the check looks at a name, so substr counts as substring and ifnull as coalesce).
FUNCTIONS = (
    # numbers
    "abs", "ceil", "floor", "round", "trunc", "sign", "greatest", "least", "power", "sqrt",
    # text
    "lower", "upper", "trim", "ltrim", "rtrim", "substring", "left", "right", "replace", "split_part",
    "concat", "concat_ws", "length", "strlen", "chr", "ascii", "reverse", "strpos", "starts_with",
    "ends_with", "contains", "prefix", "suffix", "strip_accents", "nfc_normalize", "translate",
    "regexp_matches", "regexp_replace", "regexp_extract", "regexp_full_match",
    # dates and times
    "strptime", "try_strptime", "strftime", "date_diff", "date_sub", "date_trunc", "date_part", "extract",
    "epoch", "epoch_ms", "make_date", "make_time", "make_timestamp", "to_timestamp", "timezone", "year",
    "month", "day", "hour", "minute", "second", "dayofweek", "isodow", "dayofyear", "week", "quarter",
    "last_day", "to_days", "to_hours", "to_minutes", "to_seconds",
    # nulls
    "coalesce", "nullif",
)
# Only config.yaml's row-level columns may look at neighbouring rows (e.g. a repeat complaint's lag).
WINDOW_FUNCTIONS = ("lag", "lead", "row_number", "rank", "dense_rank", "first_value", "last_value")
_T = exp.DataType.Type
TYPES = frozenset({_T.TEXT, _T.VARCHAR, _T.CHAR, _T.BIGINT, _T.INT, _T.SMALLINT, _T.TINYINT, _T.UBIGINT, _T.UINT,
                   _T.DOUBLE, _T.FLOAT, _T.DECIMAL, _T.BOOLEAN, _T.DATE, _T.TIMESTAMP, _T.TIMESTAMPNTZ, _T.TIME,
                   _T.INTERVAL})
# The tree's other nodes: operators and the few constructs an expression is made of.
_NODES = (exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Neg, exp.Not, exp.And,
          exp.Or, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ, exp.Is,
          exp.Between, exp.In, exp.Like, exp.ILike, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv,
          exp.DPipe, exp.Case, exp.If, exp.Cast, exp.TryCast, exp.DataType, exp.DataTypeParam, exp.Interval,
          exp.Var)
_WINDOW_NODES = (exp.Window, exp.WindowSpec, exp.Order, exp.Ordered)
# Words a statement starts with, to name it in the sentence (the parser refuses them all anyway).
_STATEMENT_WORDS = frozenset("""SELECT WITH VALUES FROM TABLE INSERT UPDATE DELETE MERGE TRUNCATE CREATE DROP ALTER COMMENT
    COPY EXPORT IMPORT ATTACH DETACH USE PRAGMA SET RESET INSTALL LOAD CALL BEGIN COMMIT ROLLBACK ABORT CHECKPOINT
    VACUUM ANALYZE EXPLAIN DESCRIBE SHOW SUMMARIZE PREPARE EXECUTE DEALLOCATE GRANT REVOKE""".split())
KINDS = ("columns, text and number literals, CASE, CAST/TRY_CAST, comparisons, AND/OR/NOT, arithmetic, ||, "
         "IN (a list of values), LIKE/ILIKE, INTERVALs")
# Written like a call but never the refused function a sentence should name: keywords, and synonyms that
# run as an allowed function (substr runs as substring).
_NOT_NAMES = frozenset(("in", "cast", "try_cast", "if", "over", "any", "all", "interval", "ifnull", "substr", "len",
                        "lcase", "ucase", "ceiling", "datediff", "instr", "position", "pow"))
_SHOWN = 60


class ExpressionError(ConfigError):
    """An expression was refused: `where` (e.g. 'profile nhs_fft: drop[0].when') and `reason`, one sentence."""

    def __init__(self, where: str, reason: str):
        self.where, self.reason = where, reason
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Checked:
    """A checked expression: its tree and the columns it mentions (as written)."""
    text: str
    tree: exp.Expression
    columns: tuple[str, ...]


def _duckdb(node: exp.Expression) -> str:
    """A node as DuckDB SQL, for a name or a sentence (quietly: a construct DuckDB lacks is refused anyway)."""
    try:
        return node.sql(dialect="duckdb", unsupported_level=ErrorLevel.IGNORE)
    except SqlglotError:
        return type(node).__name__


def _shown(text: str) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= _SHOWN else one[:_SHOWN - 1] + "…"


def _parse(text: str, where: str) -> exp.Expression:
    """The one expression `text` holds (parsed as an expression, never as a statement), or one sentence."""
    dialect = sqlglot.Dialect.get_or_raise("duckdb")
    try:
        tokens = dialect.tokenize(text)
    except TokenError:
        raise ExpressionError(where, f"{_shown(text)!r} has a quote that is never closed; write text in single "
                              "quotes, doubling a quote inside it ('it''s')") from None
    if any(t.token_type.name == "SEMICOLON" for t in tokens):
        raise ExpressionError(where, f"{_shown(text)!r} is more than one statement: write exactly one expression, "
                              "with no ';'")
    try:
        trees = dialect.parse_into(exp.Condition, text)
    except ParseError as exc:
        raise ExpressionError(where, _not_an_expression(text, exc)) from None
    except RecursionError:
        raise ExpressionError(where, "the expression is nested too deeply to check; write it more simply") from None
    if len(trees) != 1 or trees[0] is None:
        raise ExpressionError(where, f"expected one SQL expression, got {text!r}")
    _lexing_agrees(text, tokens, where)
    return trees[0]


def _not_an_expression(text: str, exc: ParseError) -> str:
    """Why text is not an expression: a statement (COPY, ATTACH, ...) by name, else where parsing stopped."""
    first = re.match(r"\s*([A-Za-z]+)\s", text)
    if first and first.group(1).upper() in _STATEMENT_WORDS:
        return (f"{_shown(text)!r} is a statement ({first.group(1).upper()}), not an expression: write one value "
                f"over the row's columns, using {_brief()}")
    near = next((e.get("highlight") for e in exc.errors or () if e.get("highlight")), "")
    return (f"{_shown(text)!r} is not one SQL expression" + (f" (the problem is near {_shown(near)!r})" if near else "")
            + f"; an expression may use {_brief()}")


def _lexing_agrees(text: str, ours: list, where: str) -> None:
    """DuckDB's tokenizer must see no comment and start every string where SQLGlot does."""
    try:
        theirs = duckdb.tokenize(text)
    except Exception:    # DuckDB cannot split it at all: the parser's sentence says what is wrong
        return
    if any(kind == duckdb.token_type.comment for _, kind in theirs) or any(t.comments for t in ours):
        raise ExpressionError(where, "comments ('--' or '/* */') are not allowed in an expression; remove them")
    their_strings = [pos for pos, kind in theirs if kind == duckdb.token_type.string_const]
    our_strings = [t.start for t in ours if t.token_type.name.endswith("STRING")]
    if their_strings != our_strings:
        raise ExpressionError(where, f"{_shown(text)!r} quotes its text in a way that could be read two ways; write "
                              "text in plain single quotes, doubling a quote inside it ('it''s')")


def _brief() -> str:
    return f"{KINDS} and the allowed functions"


def _function_name(node: exp.Func) -> str | None:
    """The name DuckDB runs a function node under (None for a node that renders as an operator)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    head = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(", _duckdb(node))
    return head.group(1).lower() if head else None


def _written_calls(text: str) -> list[str]:
    """The names called in text as written, outside quotes (the rendered name may differ: string_agg → listagg)."""
    bare = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "''", text)
    return [m.group(1) for m in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(", bare)]


def _refuse(node: exp.Expression, where: str, windows: bool, text: str) -> None:
    """Raise the sentence for a node the allow-list does not have."""
    shown = _shown(_duckdb(node))
    if isinstance(node, (exp.Subquery, exp.Select, exp.Query, exp.Exists, exp.From, exp.Table)):
        why = f"{shown!r} is a subquery: an expression may only use the row's own columns, not other tables"
    elif isinstance(node, exp.Star):
        why = "'*' is not allowed: name the columns"
    elif isinstance(node, exp.Placeholder):
        why = f"{shown!r} is a query parameter: write a value as a literal (config.yaml names a declared one {{name}})"
    elif isinstance(node, exp.Lambda):
        why = f"{shown!r} is a lambda: lambdas and list functions are not allowed"
    elif isinstance(node, (exp.ByteString, exp.RawString, exp.UnicodeString, exp.HexString, exp.BitString)):
        why = f"{shown!r} is an escape or dollar-quoted string: write text in plain single quotes"
    elif isinstance(node, exp.Window):
        why = "window functions (OVER ...) are not allowed here: an expression sees one row at a time"
    elif isinstance(node, exp.DataType):
        why = f"{shown!r} is not a type a value may be cast to (text, whole and decimal numbers, boolean, date, " \
              "timestamp, time or interval)"
    elif isinstance(node, exp.Func):
        allowed = sorted(FUNCTIONS + (WINDOW_FUNCTIONS if windows else ()))
        name = _function_name(node) or type(node).__name__.lower()
        written = [n for n in _written_calls(text) if n.lower() not in allowed and n.lower() not in _NOT_NAMES]
        if written and name not in (n.lower() for n in written):
            name = written[0]
        why = f"the function {name}() is not allowed (allowed: {', '.join(allowed)})"
    else:
        why = f"{shown!r} is not allowed in an expression, which may use {KINDS} and the functions " + \
              ", ".join(sorted(FUNCTIONS + (WINDOW_FUNCTIONS if windows else ())))
    raise ExpressionError(where, why)


def _walk(tree: exp.Expression, where: str, columns: Mapping[str, str] | None, windows: bool, text: str) -> list[str]:
    """Check every node of the tree; returns the columns it mentions."""
    nodes = _NODES + (_WINDOW_NODES if windows else ())
    functions = set(FUNCTIONS) | (set(WINDOW_FUNCTIONS) if windows else set())
    seen: list[str] = []
    for node in tree.walk():
        if node.comments:
            raise ExpressionError(where, "comments ('--' or '/* */') are not allowed in an expression; remove them")
        if isinstance(node, exp.Column):
            if node.args.get("table") or node.args.get("db") or node.args.get("catalog") or \
                    not isinstance(node.this, exp.Identifier):
                raise ExpressionError(where, f"{_shown(_duckdb(node))!r} names another table's column or "
                                      "a field: use the row's own columns by name only")
            name = node.this.this
            if columns is not None and name.lower() not in columns:
                raise ExpressionError(where, f"unknown column {name!r} (allowed: {_listed(columns.values())})")
            if name not in seen:
                seen.append(name)
        elif isinstance(node, exp.DataType):
            if node.this not in TYPES or node.expressions and any(not isinstance(p, exp.DataTypeParam)
                                                                  for p in node.expressions):
                _refuse(node, where, windows, text)
        elif isinstance(node, exp.In):
            if any(node.args.get(k) for k in ("query", "unnest", "field")):
                raise ExpressionError(where, f"{_shown(_duckdb(node))!r}: IN takes a list of values "
                                      "written out, e.g. status IN ('open', 'closed'), not a subquery or list")
        elif isinstance(node, exp.Func) and not isinstance(node, nodes):
            if _function_name(node) not in functions:
                _refuse(node, where, windows, text)
            continue
        elif not isinstance(node, nodes):
            _refuse(node, where, windows, text)
    return seen


def _listed(names: Iterable[str], most: int = 40) -> str:
    names = list(names)
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def check(text: object, where: str, columns: Iterable[str] | None = None, *, windows: bool = False,
          placeholders: bool = False) -> Checked:
    """Parse and check one expression.

    Args:
        text: the expression as written.
        where: who and which key, for the sentence (e.g. 'profile boston_311: columns.comment.expr').
        columns: the column names it may use (None: any plain name; config's are bound by metrics.compute.sqlcheck).
        windows: allow window functions (config's row-level columns).
        placeholders: treat {name} as a value (config's declared parameters).
    Returns:
        The Checked expression. Raises ExpressionError (a ConfigError) with one sentence.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(where, f"expected one SQL expression as text, got {text!r}")
    body = PLACEHOLDER.sub("NULL", text) if placeholders else text
    allowed = None if columns is None else {c.lower(): c for c in columns}
    tree = _parse(body, where)
    return Checked(text, tree, tuple(_walk(tree, where, allowed, windows, body)))


def render(checked: Checked, names: Mapping[str, str], where: str) -> str:
    """The DuckDB SQL of a checked expression, each column renamed by `names` (lower-cased name → name in the
    query) and quoted; the rendered text is checked again before it is returned."""
    lower = {k.lower(): v for k, v in names.items()}

    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return exp.Column(this=exp.to_identifier(lower[node.this.this.lower()], quoted=True))
        return node

    try:
        sql = checked.tree.transform(rename).sql(dialect="duckdb", identify=True, comments=False,
                                                 unsupported_level=ErrorLevel.RAISE)
    except SqlglotError:
        raise ExpressionError(where, f"{_shown(checked.text)!r} cannot be written for DuckDB; use {_brief()}") from None
    _walk(_parse(sql, where), where, {v.lower(): v for v in lower.values()}, False, sql)
    return sql

"""Byte-preserving edits of prefect.yaml: insert, remove and replace deployment entries.

Prefect's own "save configuration" re-dumps the whole file and loses nulls, quotes, indentation
and comment positions. Here the file is never re-dumped: nodes are located with a parser
(PyYAML marks), new text is spliced in, and every byte outside the edited span stays as it was.
The inserted text follows the file's own style (sequence indentation, mapping indent, line
endings, quoting). Every edit is verified by parsing the result again: the entries that should
not change did not, the new ones are exactly as intended; otherwise the edit is refused.

Pure text functions (`insert_deployments`, `remove_deployments`, `replace_value`) plus
`update_file`, a locked read-transform-write through `scaffold.fs` (lock, atomic write).
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scaffold import fs, prefect_yaml
from scaffold.errors import UsageError
from scaffold.fs import locked, read_text, write_atomic  # re-exported: the file helpers
from scaffold.prefect_yaml import node_end, walk

_STR = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()


class YamlEditError(UsageError):
    """The edit cannot be made without changing what is already there."""


# -- scalars ----------------------------------------------------------------------------------

_PLAIN_OK = re.compile(r"[A-Za-z0-9_./$][A-Za-z0-9_./$ =+@()-]*\Z")
_PLAIN_OK_BLOCK = re.compile(r"[A-Za-z0-9_./$][A-Za-z0-9_./$ =+@()\-:]*\Z")  # ':' not before ' '
# YAML 1.2 (ruamel.yaml, Prefect's own reader) reads these as numbers where PyYAML's 1.1 rules
# see strings ("1e3", "0o17", "09"): such strings are quoted so both read them back as strings.
_YAML12_NUMBER = re.compile(r"""[-+]?(?:0b[0-1_]+|0o?[0-7_]+|[0-9_]+|0x[0-9a-fA-F_]+
    |[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |\.(?:inf|Inf|INF))\Z|\.(?:nan|NaN|NAN)\Z""", re.VERBOSE)

# PyYAML refuses these characters anywhere in a stream, and line breaks must be escaped too.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0",
            "\x85": "\\N", "\xa0": "\\_", "\u2028": "\\L", "\u2029": "\\P", "\ufeff": "\\uFEFF"}
_NEEDS_ESCAPE = re.compile(
    "[\\\\\"\x00-\x1f\x7f-\x9f\xa0\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def _escape_char(match: re.Match) -> str:
    ch = match.group()
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if 0xD800 <= ord(ch) <= 0xDFFF:
        raise UsageError(f"text contains an invalid character (lone surrogate U+{ord(ch):04X})")
    return f"\\x{ord(ch):02X}" if ord(ch) <= 0xFF else f"\\u{ord(ch):04X}"


def _plain_safe(text: str, flow: bool = False) -> bool:
    pattern = _PLAIN_OK if flow else _PLAIN_OK_BLOCK
    return (bool(pattern.match(text)) and text == text.strip() and ": " not in text
            and not text.endswith(":") and not _YAML12_NUMBER.match(text)
            and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR)


def emit_scalar(value: Any, quote: str = "") -> str:
    """A YAML scalar that loads back (with PyYAML and ruamel.yaml) as exactly ``value``.

    ``quote`` is the preferred style for strings: ``""`` plain when safe, ``'"'`` or ``"'"``.
    """
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:  # PyYAML needs "1.0e+16", not "1e+16"
            mantissa, exp = text.split("e")
            text = f"{mantissa}.0e{exp if exp[0] in '+-' else '+' + exp}"
        return text
    if not isinstance(value, str):
        raise TypeError(f"not a scalar: {value!r}")
    if quote == "" and _plain_safe(value):
        return value
    if quote == "'" and not _NEEDS_ESCAPE.search(value.replace("\\", "").replace('"', "")):
        return "'" + value.replace("'", "''") + "'"
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, value) + '"'


def emit_key(key: Any) -> str:
    text = emit_scalar(key)
    if len(text) > 1024:  # YAML's limit for an implicit key
        raise UsageError(f"a key of {len(text)} characters ({text[:20]}...) cannot be written "
                         "in YAML, which allows at most 1024; use a shorter key")
    return text


def emit_flow(value: Any, quote: str = '"') -> str:
    """One-line flow style: ``{name: x, parameters: {}}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{emit_key(k)}: {emit_flow(v, quote)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(emit_flow(v, quote) for v in value) + "]"
    if isinstance(value, str) and quote == "" and not _plain_safe(value, flow=True):
        quote = '"'
    text = emit_scalar(value, quote)
    # plain scalars in flow context must not contain flow indicators; _PLAIN_OK excludes them
    return text


# -- style ------------------------------------------------------------------------------------


@dataclass
class Style:
    newline: str = "\n"
    seq_offset: int = 0  # columns from a key to the '-' of its block sequence
    item_indent: int = 2  # columns from '-' to the item's first key
    map_indent: int = 2  # columns from a key to its nested mapping's keys
    nested_seq_offset: int | None = None  # seq_offset inside deployments (None: seq_offset)
    quote: str = ""  # preferred style of string values
    quote_by_key: dict | None = None  # per key, (parent, key), (parent, None): similar values
    blank_between: bool = False  # items separated by blank lines


def _content_start(text: str, node: Any) -> int:
    """Where a node's content starts, after its anchor and tag (``&a !!str x`` -> ``x``)."""
    start = node.start_mark.index
    props = re.match(r"(?:[&!][^ \t\r\n]*[ \t]+)*", text[start:node.end_mark.index])
    return start + (props.end() if props else 0)


_DASH_LINE = re.compile(r"[ \t]*(-)[ \t]*(?:#.*)?\r?\Z")  # "- # base metadata"
_EMPTY_LINE = re.compile(r"[ \t]*(?:#.*)?\r?\Z")  # blank or only a comment


def _dash_index(text: str, item: Any) -> int:
    """Index of the '-' that introduces a block sequence item.

    The item may start on the dash line (``- name: x``) or below it: Prefect's own recipes
    write ``- # base metadata`` and the keys on the next lines, and a dash may stand alone,
    with comment or blank lines before the first key.
    """
    start = item.start_mark.index
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i >= 0 and text[i] == "-":
        return i
    if i < 0 or text[i] == "\n":  # the item starts its line: look at the lines above it
        end = _line_start(text, start)
        while end > 0:
            begin = _line_start(text, end - 1)
            line = text[begin:end - 1]
            dash = _DASH_LINE.match(line)
            if dash:
                return begin + dash.start(1)
            if not _EMPTY_LINE.match(line):
                break
            end = begin
    raise YamlEditError("unexpected layout of a sequence item", line=item.start_mark.line + 1)


def _written_here(key: Any, value: Any) -> bool:
    """False when ``value`` is an alias: its marks point at the anchor, not after ``key``."""
    return value.start_mark.index >= key.end_mark.index


def _block_seqs(root: Any) -> Iterator[tuple[Any, Any]]:
    """(key node, block sequence node) pairs anywhere under root, as written (no aliases)."""
    for node in walk(root):
        if isinstance(node, yaml.MappingNode) and not node.flow_style:
            for k, v in node.value:
                if (isinstance(v, yaml.SequenceNode) and not v.flow_style and v.value
                        and _written_here(k, v) and _written_here(k, v.value[0])):
                    yield k, v


_ALL = object()  # key of the whole-file count in _count_quotes


def _count_quotes(node: Any, parent: Any, counts: dict, seen: set[int]) -> None:
    """Count quoting styles of string values by key, by (parent key, key) and by parent key.

    "Similar values" are values of the same key (``entrypoint``), or values under the same
    parent key (every ``parameters`` value), so a new entry quotes them the way the file does.
    """
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _count_quotes(item, parent, counts, seen)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else None
            leaves = v.value if isinstance(v, yaml.SequenceNode) else [v]
            for leaf in leaves:
                if (isinstance(leaf, yaml.ScalarNode) and leaf.tag == _STR
                        and leaf.style in (None, "", '"', "'")):
                    for bucket in (_ALL, key, (parent, key), (parent, None)):
                        c = counts.setdefault(bucket, {"": 0, '"': 0, "'": 0})
                        c[leaf.style or ""] += 1
            _count_quotes(v, key, counts, seen)


# Style is read from this many entries at each end of a long list: enough to know the file's
# habits, and inserting into a list of 1,000 entries does not walk all of them.
_SAMPLE = 25


def detect_style(text: str, root: Any, deployments: Any | None) -> Style:
    st = Style(newline="\r\n" if "\r\n" in text else "\n")
    dep_items = list(deployments.value) if deployments is not None and not deployments.flow_style else []
    sample = (dep_items if len(dep_items) <= 2 * _SAMPLE
              else dep_items[:_SAMPLE] + dep_items[-_SAMPLE:])

    # '-' position under the key: from deployments, else from any block sequence in the file
    if deployments is not None and dep_items:
        key = next(k for k, v in root.value if v is deployments)
        seq_sample = [(key, deployments)]
    else:
        seq_sample = list(itertools.islice(_block_seqs(root), 1)) if root is not None else []
    for key, seq in seq_sample[:1]:
        dash = _dash_index(text, seq.value[0])
        dash_col = dash - text.rfind("\n", 0, dash) - 1
        st.seq_offset = max(0, dash_col - key.start_mark.column)
        first = seq.value[0]
        if isinstance(first, yaml.MappingNode) and not first.flow_style:
            # the keys' column, also when they start below "- # comment"
            st.item_indent = max(2, first.start_mark.column - dash_col)
    # a list inside an entry (tags, schedules) may be indented differently
    nested = next((pair for item in sample for pair in _block_seqs(item)), None)
    if nested is not None:
        key, seq = nested
        dash = _dash_index(text, seq.value[0])
        dash_col = dash - text.rfind("\n", 0, dash) - 1
        st.nested_seq_offset = max(0, dash_col - key.start_mark.column)

    # mapping indent: a nested block mapping, preferably inside deployments
    candidates = []
    scopes = sample + ([root] if root is not None else [])
    for scope in scopes:
        for node in walk(scope):
            if isinstance(node, yaml.MappingNode) and not node.flow_style:
                for k, v in node.value:
                    if (isinstance(v, yaml.MappingNode) and not v.flow_style and v.value
                            and v.start_mark.line > k.start_mark.line and _written_here(k, v)):
                        candidates.append(v.start_mark.column - k.start_mark.column)
        if candidates:
            break
    if candidates and candidates[0] in (2, 3, 4, 8):
        st.map_indent = candidates[0]

    # quoting of string values, by majority, inside deployments first
    for scopes_ in ([sample] if sample else []) + ([[root]] if root is not None else []):
        counts: dict[Any, dict[str, int]] = {}
        seen: set[int] = set()
        for scope in scopes_:
            _count_quotes(scope, None, counts, seen)
        if counts:
            def pick(c: dict[str, int]) -> str:
                return max(c, key=lambda q: (c[q], q == ""))
            st.quote = pick(counts.pop(_ALL))
            st.quote_by_key = {k: pick(c) for k, c in counts.items()}
            break

    if len(dep_items) >= 2:
        gaps = 0
        for item in dep_items[1:]:
            start = _line_start(text, _dash_index(text, item))
            prev_start = _line_start(text, max(0, start - 1))
            if text[prev_start:start].strip() == "":
                gaps += 1
        st.blank_between = gaps == len(dep_items) - 1
    return st


# -- rendering --------------------------------------------------------------------------------


def _inline(value: Any, quote: str) -> str:
    if isinstance(value, dict | list | tuple):
        return emit_flow(value, quote or '"')
    return emit_scalar(value, quote)


def _quote_for(key: Any, parent: Any, st: Style) -> str:
    """The file's style for a string under ``parent`` -> ``key``: the most specific known."""
    by_key = st.quote_by_key or {}
    for bucket in ((parent, key), key, (parent, None)):
        if bucket in by_key:
            return by_key[bucket]
    return st.quote


def _render_map(mapping: dict, col: int, st: Style, parent: Any = None) -> list[str]:
    lines: list[str] = []
    pad = " " * col
    for key, value in mapping.items():
        head = f"{pad}{emit_key(key)}:"
        quote = _quote_for(key, parent, st)
        if isinstance(value, dict) and value:
            lines.append(head)
            lines.extend(_render_map(value, col + st.map_indent, st, key))
        elif isinstance(value, list) and value:
            lines.append(head)
            offset = st.seq_offset if st.nested_seq_offset is None else st.nested_seq_offset
            lines.extend(_render_seq(value, col + offset, st, quote, key))
        else:
            lines.append(f"{head} {_inline(value, quote)}")
    return lines


def _render_seq(items: list, dash_col: int, st: Style, quote: str | None = None,
                parent: Any = None) -> list[str]:
    lines: list[str] = []
    for item in items:
        if isinstance(item, dict) and item:
            body = _render_map(item, dash_col + st.item_indent, st, parent)
            body[0] = " " * dash_col + "-" + " " * (st.item_indent - 1) + body[0].lstrip(" ")
            lines.extend(body)
        else:
            lines.append(" " * dash_col + "- " + _inline(item, st.quote if quote is None else quote))
    return lines


def render_entries(entries: list[dict], dash_col: int, st: Style) -> str:
    """Block-style text of new sequence items, each line ending with the file's newline."""
    out: list[str] = []
    for entry in entries:
        if st.blank_between and out:
            out.append("")
        out.extend(_render_seq([entry], dash_col, st))
    return "".join(line + st.newline for line in out)


# -- locating ---------------------------------------------------------------------------------


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Index just past the newline of the line holding ``index`` (len(text) on the last line)."""
    nl = text.find("\n", index)
    return len(text) if nl < 0 else nl + 1


def _is_content_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _item_end(text: str, item: Any, bound: int, dash_col: int) -> int:
    """Index just past the last line of a block sequence item.

    ``bound`` is where the next thing starts (next item, or the sequence's end). Content is
    found from both sides: node marks (which know block scalars) and a backward scan over
    comment and blank lines (which knows aliases); comment lines indented deeper than the
    '-' that directly follow the item belong to it.
    """
    pos = _line_start(text, bound)
    if _is_content_line(text[pos:bound]):  # bound is mid-line after content
        end = _line_end(text, bound)
    else:
        end = pos
        while end > 0:
            prev = _line_start(text, end - 1)
            if _is_content_line(text[prev:end]) or prev <= item.start_mark.index:
                break
            end = prev
    last = node_end(item)
    if last > end:
        end = last if _line_start(text, last) == last else _line_end(text, last)
    # comment lines owned by the item
    while end < len(text):
        nxt = _line_end(text, end)
        line = text[end:nxt]
        stripped = line.lstrip(" ")
        if stripped.startswith("#") and len(line) - len(stripped) > dash_col:
            end = nxt
        else:
            break
    return end


@dataclass
class _Doc:
    text: str
    root: Any
    data: Any
    key: Any  # the 'deployments' key node (None when absent)
    value: Any  # its value node
    model: prefect_yaml.PrefectYaml


def load(text: str, path: object = "prefect.yaml") -> prefect_yaml.PrefectYaml:
    """Load a prefect.yaml for editing: the one model (``prefect_yaml.load``), plus what an
    in-place edit needs (a block-style top level, a ``deployments`` list written under its key).

    Pass the result to ``insert_deployments``/``remove_deployments``/``replace_value`` as
    ``doc=`` to edit without parsing the file again.
    """
    return _load(text, path).model


def _load(text: str, path: object, model: prefect_yaml.PrefectYaml | None = None) -> _Doc:
    model = prefect_yaml.load(text, path) if model is None else model
    root = model.root
    if root is not None and root.flow_style:
        raise YamlEditError("a flow-style top-level mapping ({...}) cannot be edited in place; "
                            "write it in block style", path=path, line=root.start_mark.line + 1)
    key = model.deployments
    if key is not None and not key.written_here:
        raise YamlEditError("'deployments' is an alias or merged in with '<<'; edit it by hand",
                            path=path, line=key.key_mark[0])
    return _Doc(model.text, root, model.data, key and key.key, key and key.value, model)


def _same(a: Any, b: Any) -> bool:
    return a == b or repr(a) == repr(b)  # repr: NaN parameters compare equal to themselves


def _verify(new_text: str, old: _Doc, expected: list, path: object, action: str) -> None:
    try:
        new = _load(new_text, path)
    except UsageError as err:
        raise YamlEditError(f"{action} would break the file ({err.message}); the file was not "
                            "changed, edit it by hand", path=path) from None
    others_old = {k: v for k, v in old.data.items() if k != "deployments"}
    others_new = {k: v for k, v in new.data.items() if k != "deployments"}
    got = new.data.get("deployments") or []
    if not _same(others_old, others_new) or not _same(got, expected):
        raise YamlEditError(f"{action} would change other content of the file (unusual layout); "
                            "the file was not changed, edit it by hand", path=path)


# What may make a slice of the file read differently alone: an anchor anywhere (no anchor, no
# alias) and directives (%TAG shorthands are defined at the top).
_CONTEXT = re.compile(r"&|^%", re.MULTILINE)


def _verified_locally(new: str, old: _Doc, start: int, entries: list, st: Style) -> bool:
    """The verification of an append to a block list, without parsing the whole file again.

    The text before ``start`` (the line of the last old entry's dash) is byte for byte what
    it was, and a YAML parser reads a prefix that ends at a line boundary outside any node
    the same whatever follows. So it is enough that ``deployments:`` followed by the rest
    (the last old entry, the new ones, whatever came after the list) reads as the last old
    entry plus the new ones, and every top-level key written after the list as before. A
    file whose slice could read differently alone (anchors and aliases, directives, a second
    ``deployments`` key after the list) says False, and the caller parses the whole file.
    """
    key = old.key
    if (key is None or key.start_mark.column != 0 or old.root is None or old.root.flow_style
            or _CONTEXT.search(old.text)):  # the new block is rendered here: neither
        return False
    tail = new[start:]
    try:
        local = prefect_yaml.parse("deployments:" + st.newline + tail).data
    except UsageError:
        return False
    items = old.data.get("deployments") or []
    after = {k.name for k in prefect_yaml.pairs(old.root)
             if k.own and k.key.start_mark.index > key.start_mark.index}
    if not isinstance(local, dict) or "deployments" in after or set(local) != after | {"deployments"}:
        return False
    return (_same(local["deployments"], items[-1:] + entries)
            and all(_same(local[name], old.data.get(name)) for name in after))


def _check_entries(entries: list[dict]) -> list[dict]:
    """The entries as YAML will read them back (tuples become lists), for the verification."""
    for entry in entries:
        if not isinstance(entry, dict) or not entry:
            raise TypeError("a deployment entry must be a non-empty dict")
    return [_as_loaded(entry) for entry in entries]


def _as_loaded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_loaded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_loaded(v) for v in value]
    return value


def _start(text: str, path: object, doc: prefect_yaml.PrefectYaml | None) -> tuple[str, str, _Doc]:
    """(BOM, text after it, loaded document): ``doc`` when given (loaded from ``text``)."""
    bom, body = ("\ufeff", text[1:]) if text.startswith("\ufeff") else ("", text)
    if doc is not None and doc.text != body:
        raise ValueError("doc was not loaded from this text")
    return bom, body, _load(body, path, doc)


# -- edits ------------------------------------------------------------------------------------


def _flow_append(body: str, seq: Any, entries: list[dict], st: Style, path: object) -> str:
    """Append to a flow sequence: on its line, or one item per line when it is written so."""
    last = seq.value[-1]
    if last.start_mark.index < seq.start_mark.index:
        raise YamlEditError("the last deployment is an alias; edit the list by hand", path=path,
                            line=seq.start_mark.line + 1)
    end, close = last.end_mark.index, seq.end_mark.index - 1
    comma = re.match(r"[ \t]*,", body[end:close])  # a trailing comma: "[a, b,]"
    items = [emit_flow(e, st.quote) for e in entries]
    if "\n" not in body[seq.start_mark.index:last.start_mark.index]:  # all on one line
        if comma:
            at = end + comma.end()
            return body[:at] + "".join(f" {item}," for item in items) + body[at:]
        return body[:end] + "".join(f", {item}" for item in items) + body[end:]
    # one item per line: new lines go after the last item's line (and its comment)
    nl, indent = st.newline, " " * last.start_mark.column
    eol = body.find("\n", end)
    if eol < 0 or eol > close:
        eol = close
    elif body[eol - 1] == "\r":
        eol -= 1
    if comma:
        return body[:eol] + "".join(f"{nl}{indent}{item}," for item in items) + body[eol:]
    return (body[:end] + "," + body[end:eol] + ",".join(f"{nl}{indent}{item}" for item in items)
            + body[eol:])


def insert_deployments(text: str, entries: list[dict], path: object = "prefect.yaml",
                       doc: prefect_yaml.PrefectYaml | None = None) -> str:
    """Append ``entries`` to the ``deployments`` list; only the inserted block is new.

    ``deployments: []`` and an explicit null are the only existing text that may change (that
    line becomes ``deployments:``); a missing ``deployments`` key is added at the end.
    """
    entries = _check_entries(entries)
    bom, body, doc = _start(text, path, doc)
    old = list(doc.data.get("deployments") or [])
    seq = doc.value if isinstance(doc.value, yaml.SequenceNode) else None
    st = detect_style(body, doc.root, seq)
    nl = st.newline

    if doc.key is None:  # no deployments key: add one after the last key's value
        key_col, at = 0, len(body)
        if doc.root is not None and doc.root.value:
            key_col = doc.root.value[0][0].start_mark.column
            # before a trailing comment block and a "..." document end, like a new list item
            at = _item_end(body, doc.root, doc.root.end_mark.index, key_col)
        before = body[:at]
        if before and not before.endswith("\n"):
            before += nl
        block = f"{' ' * key_col}deployments:{nl}" + render_entries(entries, key_col + st.seq_offset, st)
        new = before + block + body[at:]
    elif seq is not None and seq.flow_style and seq.value:  # [a, b] -> [a, b, new]
        new = _flow_append(body, seq, entries, st, path)
    elif seq is None or not seq.value:  # null or []: the key line becomes "deployments:"
        key_col = doc.key.start_mark.column
        line_end = _line_end(body, doc.key.end_mark.index)
        value = doc.value
        if value.end_mark.index > value.start_mark.index:  # explicit "[]", "null" or "~"
            vs, ve = value.start_mark.index, value.end_mark.index
            if _line_start(body, vs) != _line_start(body, doc.key.start_mark.index):
                raise YamlEditError("the empty value of 'deployments' is not on its line; "
                                    "write 'deployments: []'", path=path, line=value.start_mark.line + 1)
            if isinstance(value, yaml.SequenceNode):  # keep an anchor or tag: "&d []"
                vs = _content_start(body, value)
            rest = body[ve:line_end]
            if not rest.strip():  # nothing but spaces after "[]": drop them too
                rest = rest.lstrip(" \t")
            head = body[:vs].rstrip(" \t") + rest
        else:
            head = body[:line_end]
        if not head.endswith("\n"):
            head += nl
        new = head + render_entries(entries, key_col + st.seq_offset, st) + body[line_end:]
    else:  # block sequence: after the last item, before trailing comments of what follows
        last = seq.value[-1]
        dash = _dash_index(body, last)
        dash_col = dash - _line_start(body, dash)
        at = _item_end(body, last, seq.end_mark.index, dash_col)
        before = body[:at]
        block = render_entries(entries, dash_col, st)
        if st.blank_between:
            block = nl + block
        if before and not before.endswith("\n"):
            before += nl
        new = before + block + body[at:]
        if _verified_locally(new, doc, _line_start(body, dash), entries, st):
            return bom + new

    _verify(new, doc, old + entries, path, "adding the deployment")
    return bom + new


def _entry_span(body: str, seq: Any, i: int, removed: set[int], path: object) -> tuple[int, int]:
    """(start, end) of the text to cut to remove item ``i`` of ``seq``.

    Spans of the items in ``removed`` do not overlap, so they can be cut one after another.
    """
    items = seq.value
    item = items[i]
    if any(node.start_mark.index < seq.start_mark.index for node in items):
        raise YamlEditError("the list holds an alias; remove the entry by hand", path=path,
                            line=seq.start_mark.line + 1)
    if seq.flow_style:
        # the item with the separator after it when a kept item follows, else with the one
        # before it: "[a, b, c]" minus b and c is "[a]"
        if any(j not in removed for j in range(i + 1, len(items))):
            return item.start_mark.index, items[i + 1].start_mark.index
        start = items[i - 1].end_mark.index if i > 0 else item.start_mark.index
        return start, item.end_mark.index
    dash = _dash_index(body, item)
    start = _line_start(body, dash)
    if body[start:dash].strip():
        raise YamlEditError("an entry shares its line with other text; remove it by hand",
                            path=path, line=item.start_mark.line + 1)
    if i + 1 < len(seq.value):
        bound = _line_start(body, _dash_index(body, seq.value[i + 1]))
    else:
        bound = seq.end_mark.index
    end = _item_end(body, item, bound, dash - start)
    # blank-line separated items: take the blank line after the item with it (also after
    # the first item, so that no blank line is left under "deployments:")
    prev_blank = start == 0 or not body[_line_start(body, start - 1):start].strip()
    if (prev_blank or i + 1 < len(items)) and end < len(body):
        nxt = _line_end(body, end)
        if not body[end:nxt].strip():
            return start, nxt
    if prev_blank and start > 0 and i + 1 == len(items) and i - 1 not in removed:
        start = _line_start(body, start - 1)  # the last one: the blank line above it goes too
    return start, end


def remove_deployments(text: str, names: list[str], path: object = "prefect.yaml",
                       doc: prefect_yaml.PrefectYaml | None = None) -> str:
    """Remove the entries with these names; the rest of the file is untouched.

    When the list becomes empty it is written ``deployments: []``. Names not in the file
    are ignored (the caller reports them).
    """
    bom, body, doc = _start(text, path, doc)
    old = list(doc.data.get("deployments") or [])
    seq = doc.value if isinstance(doc.value, yaml.SequenceNode) else None
    targets = [i for i, d in enumerate(old) if d.get("name") in set(names)]
    if not targets or seq is None:
        return text
    keep = [d for i, d in enumerate(old) if i not in targets]
    # Every span is measured on the original text, then cut from the end backwards, so the
    # marks of what is still to be cut stay valid.
    spans = [_entry_span(body, seq, i, set(targets), path) for i in targets]
    if seq.flow_style and not keep:  # "[a, b,]" -> "[]"
        spans = [(_content_start(body, seq) + 1, seq.end_mark.index - 1)]
    new = body
    for start, end in reversed(spans):
        new = new[:start] + new[end:]
    if not keep and not seq.flow_style:
        colon = new.index(":", doc.key.end_mark.index)
        new = new[: colon + 1] + " []" + new[colon + 1:]
    _verify(new, doc, keep, path, "removing the deployment")
    return bom + new


def _replace_block_scalar(body: str, start: int, end: int, scalar: str) -> str:
    """``key: >-`` + content lines -> ``key: <scalar>``: the scalar takes the place of the
    indicator; the rest of that line (a comment) stays, the content lines go, and the blank
    lines the scalar's marks include after its content stay too."""
    header = re.match(r"[|>][-+0-9]*", body[start:end])
    head_end = _line_end(body, start)
    content_end = head_end
    pos = head_end
    while pos < end:
        nxt = _line_end(body, pos)
        if body[pos:min(nxt, end)].strip():
            content_end = nxt
        pos = nxt
    rest = body[start + (header.end() if header else 0):head_end]
    return body[:start] + scalar + rest + body[content_end:]


def replace_value(text: str, deployment: str | int, key: str, value: Any,
                  path: object = "prefect.yaml", doc: prefect_yaml.PrefectYaml | None = None) -> str:
    """Rewrite one scalar of one entry (by name or index), keeping its quoting style; a block
    scalar (``|``, ``>``) becomes a plain (or, when needed, quoted) scalar on its line."""
    bom, body, doc = _start(text, path, doc)
    old = list(doc.data.get("deployments") or [])
    idx = deployment if isinstance(deployment, int) else next(
        (i for i, d in enumerate(old) if d.get("name") == deployment), None)
    if idx is None or not isinstance(doc.value, yaml.SequenceNode) or idx >= len(doc.value.value):
        raise YamlEditError(f"no deployment {deployment!r} in the file", path=path)
    entry = doc.model.items[idx]
    own = entry.own(key)
    if own is None:
        raise YamlEditError(f"deployment {deployment!r} has no '{key}' of its own (merged or "
                            "missing); edit it by hand", path=path, line=entry.line)
    node = own.value
    if not entry.editable(key):
        raise YamlEditError(f"'{key}' of {deployment!r} is not a plain value (alias or "
                            "collection); edit it by hand", path=path, line=node.start_mark.line + 1)
    if doc.model.uses(node) > 1:
        raise YamlEditError(f"'{key}' of {deployment!r} is anchored and used elsewhere through an "
                            "alias; edit it by hand", path=path, line=node.start_mark.line + 1)
    start, end = _content_start(body, node), node.end_mark.index
    if node.style in ("|", ">"):
        new = _replace_block_scalar(body, start, end, _inline(value, ""))
    else:
        scalar = _inline(value, node.style or "")
        if start == end:  # an empty value ("entrypoint:"): the marks sit right after the colon
            scalar = " " + scalar
        new = body[:start] + scalar + body[end:]
    expected = [dict(d) for d in old]
    expected[idx][key] = value
    _verify(new, doc, expected, path, f"changing '{key}'")
    return bom + new


# -- files ------------------------------------------------------------------------------------


def update_file(path: str | os.PathLike, transform: Callable[[str], str],
                done: str = "") -> tuple[str, str]:
    """Locked read-transform-write of a text file; returns (old, new). No write if unchanged.

    A read-only file is refused before the transform runs (nothing changes); ``done`` is what
    the caller already did, for the message of a write that fails.
    """
    path = Path(path)
    with locked(path.parent):
        fs.require_writable(path)
        old = read_text(path) if path.exists() else ""
        new = transform(old)
        if new != old:
            write_atomic(path, new, done)
    return old, new

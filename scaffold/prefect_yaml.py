"""The one model of a prefect.yaml: loader, limits, shape check and typed deployments.

Every reader of a prefect.yaml (the repository model, the byte-preserving editor, the linter,
the generator and the operations) goes through ``load``:

- the loader is PyYAML's C parser (libyaml, ~10x the pure-Python one) with the safe
  constructor; every node keeps its line and column;
- alias expansion is bounded: a "billion laughs" file (9 levels of 9 aliases) is refused in
  milliseconds instead of making every later comparison or walk spin, and a recursive alias
  is refused too;
- ``<<`` merge keys are resolved by one function (``pairs``) without rewriting the node graph,
  so every reader can tell a key written in a mapping from one merged into it, and an alias
  (a value written elsewhere) from a value written after its key;
- duplicate keys inside one mapping (YAML keeps the last one, silently) are recorded;
- the shape check has one set of messages: the file is a mapping, ``deployments`` is a list,
  each deployment is a mapping.

Nothing here writes and nothing here imports the rest of scaffold but ``errors``.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from scaffold.errors import ConfigError, printable

MERGE_TAG = "tag:yaml.org,2002:merge"
VALUE_TAG = "tag:yaml.org,2002:value"
STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
SECTIONS = ("pull", "build", "push", "definitions")  # project-level sections

# A document may expand through aliases to at most this many nodes, or ALIAS_RATIO times the
# nodes it has, whichever is larger: a file of 1,000 deployments is ~60,000 nodes and merging
# one anchor into each entry multiplies that by a few; 9 levels of 9 aliases make 387 million.
MAX_EXPANDED = 1_000_000
ALIAS_RATIO = 20


class _BadValue(ConstructorError):
    """Well-formed YAML, but a typed value Python cannot build."""


class _Bomb(yaml.YAMLError):
    def __init__(self, message: str, node: Node):
        super().__init__(message)
        self.problem, self.problem_mark = message, node.start_mark


# -- merge keys, once ------------------------------------------------------------------------


def _merged(node: MappingNode) -> list[tuple[Node, Node]]:
    """The pairs ``<<`` merges into ``node``, in PyYAML's order (an own key wins over them,
    and with ``<<: [*a, *b]`` a key of ``a`` wins over the same key of ``b``)."""
    out: list[tuple[Node, Node]] = []
    for key, value in node.value:
        if key.tag != MERGE_TAG:
            continue
        if isinstance(value, MappingNode):
            out.extend(_flat(value))
        elif isinstance(value, SequenceNode):
            groups = []
            for sub in value.value:
                if not isinstance(sub, MappingNode):
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           f"expected a mapping for merging, but found {sub.id}",
                                           sub.start_mark)
                groups.append(_flat(sub))
            for group in reversed(groups):
                out.extend(group)
        else:
            raise ConstructorError("while constructing a mapping", node.start_mark,
                                   "expected a mapping or list of mappings for merging, "
                                   f"but found {value.id}", value.start_mark)
    return out


def _flat(node: MappingNode) -> list[tuple[Node, Node]]:
    """Key/value node pairs of a mapping as the loader reads them: merged ones, then own ones
    (later pairs win). The node graph is left as written."""
    own = []
    for key, value in node.value:
        if key.tag == MERGE_TAG:
            continue
        if key.tag == VALUE_TAG:  # "=" as a key is the string "=" (as PyYAML does)
            key.tag = STR_TAG
        own.append((key, value))
    if len(own) == len(node.value):
        return own
    return _merged(node) + own


@dataclass(eq=False)
class Key:
    """One key of a mapping as the file writes it."""

    name: Any  # the key as text (a scalar key), else None
    key: Node
    value: Node
    own: bool  # written in this mapping; False: merged in with "<<"

    @property
    def alias(self) -> bool:
        """The value is an alias: its text (and its marks) are at its anchor, elsewhere."""
        return self.value.start_mark.index < self.key.end_mark.index

    @property
    def written_here(self) -> bool:
        """Own key with a value written right after it: text that can be edited in place."""
        return self.own and not self.alias

    @property
    def key_mark(self) -> tuple[int, int]:
        return self.key.start_mark.line + 1, self.key.start_mark.column + 1

    @property
    def value_mark(self) -> tuple[int, int]:
        return self.value.start_mark.line + 1, self.value.start_mark.column + 1

    @property
    def mark(self) -> tuple[int, int]:
        """(line, column), 1-based, where a message about the value should point.

        A scalar or flow value is pointed at itself (``entrypoint: flows/x.py:x_flow`` -> the
        ``flows`` column). A block mapping or list starts on the next line and an alias's marks
        are those of its anchor, elsewhere in the file: both are pointed at their key instead.
        """
        value = self.value
        block = isinstance(value, (MappingNode, SequenceNode)) and not value.flow_style and value.value
        return self.key_mark if self.own and (block or self.alias) else self.value_mark


def pairs(node: Node) -> list[Key]:
    """Every key of a mapping node, merged ones first (as the loader applies them)."""
    if not isinstance(node, MappingNode):
        return []
    own_ids = {id(k) for k, _ in node.value}
    return [Key(k.value if isinstance(k, ScalarNode) else None, k, v, id(k) in own_ids)
            for k, v in _flat(node)]


def keys(node: Node) -> dict[str, Key]:
    """Scalar keys of a mapping node -> the Key that the loaded value comes from (last wins)."""
    return {p.name: p for p in pairs(node) if p.name is not None}


# -- the loader ------------------------------------------------------------------------------


class _Constructor(yaml.constructor.SafeConstructor):
    """PyYAML's safe constructor with three changes.

    - Bad typed values (``date: 2024-13-45``, ``!!int x``, an integer of 5,000 digits) are
      YAML errors with a mark: PyYAML lets ValueError escape.
    - Merge keys are resolved with ``_flat`` and the node graph stays as written (PyYAML
      rewrites every merged mapping), so marks and "own key" stay answerable afterwards.
    - Duplicate keys in one mapping are recorded in ``self.duplicates``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.duplicates: list[tuple[Node, Node]] = []  # (first key node, repeated key node)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as err:
            kind = str(node.tag).rpartition(":")[2]
            shown = repr(node.value) if len(str(node.value)) <= 40 else f"{str(node.value)[:37]!r}..."
            raise _BadValue(None, None, f"{shown} is not a valid {kind} ({str(err)[:80]}); "
                            "quote it if it is text", node.start_mark) from None

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, f"expected a mapping node, but found {node.id}",
                                   node.start_mark)
        mapping: dict = {}
        seen: dict[Any, Node] = {}
        own = {id(k) for k, _ in node.value}
        for key_node, value_node in _flat(node):
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise ConstructorError("while constructing a mapping", node.start_mark,
                                       "found unhashable key", key_node.start_mark)
            if id(key_node) in own and isinstance(key_node, ScalarNode):
                first = seen.get(key)
                if first is not None:
                    self.duplicates.append((first, key_node))
                else:
                    seen[key] = key_node
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


try:  # libyaml: ~10x faster than the pure-Python parser
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - wheels without libyaml
    CParser = None

if CParser is not None:
    class _Loader(CParser, _Constructor, yaml.resolver.Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Constructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
else:  # pragma: no cover - wheels without libyaml
    class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                  yaml.composer.Composer, _Constructor, yaml.resolver.Resolver):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Constructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


def _check_expansion(root: Node) -> None:
    """Refuse a node graph that aliases expand beyond the limits, or that contains itself.

    One pass over the distinct nodes (iterative: deep nesting cannot overflow the stack),
    counting each node's expanded size once.
    """
    size: dict[int, int] = {}
    finished: list[Node] = []  # post-order: the first one over the limit is the culprit
    active: set[int] = set()
    distinct = 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        ident = id(node)
        if done:
            active.discard(ident)
            children = (node.value if isinstance(node, SequenceNode)
                        else [n for pair in node.value for n in pair])
            size[ident] = 1 + sum(size.get(id(c), 1) for c in children)
            finished.append(node)
            continue
        if ident in size:
            continue
        if ident in active:
            raise _Bomb("a recursive alias (a node that contains itself); write the value out",
                        node)
        distinct += 1
        active.add(ident)
        stack.append((node, True))
        children = (node.value if isinstance(node, SequenceNode)
                    else [n for pair in node.value for n in pair])
        for child in children:
            if not isinstance(child, ScalarNode) and id(child) not in size:
                stack.append((child, False))
    limit = max(MAX_EXPANDED, ALIAS_RATIO * distinct)
    if size.get(id(root), 1) > limit:
        at = next(n for n in finished if size[id(n)] > limit)
        raise _Bomb(f"aliases expand the file to {size[id(root)]:,} values (at most {limit:,}: "
                    "an alias bomb?); write the values out or use fewer nested aliases", at)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a big node graph is built.

    A prefect.yaml of 1,000 deployments is ~60,000 nodes: the collector would walk them over
    and over as they are allocated, which more than doubles the parse time. Nothing built
    here needs it (plain reference counting frees it all), and the previous state comes back.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(eq=False)
class Parsed:
    """One YAML document: node graph, Python data and duplicate keys."""

    root: Node | None
    data: Any
    duplicates: list[tuple[Node, Node]] = field(default_factory=list)


def compose(text: str, path: object = "<string>") -> tuple[Any, Any]:
    """Parse one YAML document into (node graph, python data); ConfigError with file and line."""
    parsed = parse(text, path)
    return parsed.root, parsed.data


def parse(text: str, path: object = "<string>") -> Parsed:
    """Parse one YAML document (any shape), bounded; ConfigError with file and line."""
    loader = None
    with _gc_paused():
        try:
            loader = _Loader(text)  # the pure-Python reader already checks characters here
            node = loader.get_single_node()
            if node is not None and "&" in text:  # no anchor, no alias: nothing to expand
                _check_expansion(node)
            data = loader.construct_document(node) if node is not None else None
            return Parsed(node, data, loader.duplicates)
        except yaml.YAMLError as err:
            raise _config_error(err, text, path) from None
        except RecursionError:
            raise ConfigError("invalid YAML: nested too deeply to read; flatten the structure",
                              path=path) from None
        finally:
            if loader is not None:
                loader.dispose()


def _config_error(err: yaml.YAMLError, text: str, path: object) -> ConfigError:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    context = getattr(err, "context_mark", None)
    if mark is not None and context is not None and mark.index >= len(text.rstrip()):
        mark = context  # an error "at the end of the file" is clearer where the construct began
    line = mark.line + 1 if mark else None
    if line is None and isinstance(getattr(err, "position", None), int):  # ReaderError
        line = text.count("\n", 0, err.position) + 1
    # escaped: PyYAML quotes the odd text it found, and it comes from the file
    problem = printable(getattr(err, "problem", None) or str(err).splitlines()[0])
    if isinstance(err, _BadValue):
        return ConfigError(f"invalid value: {problem}", path=path, line=line)
    if isinstance(err, _Bomb):
        return ConfigError(f"refused: {problem}", path=path, line=line)
    return ConfigError(f"invalid YAML: {problem}; fix the syntax", path=path, line=line)


# -- the shape check, one set of messages ----------------------------------------------------

_KINDS = {dict: "a mapping", str: "a string", int: "a number", float: "a number",
          bool: "true/false", list: "a list", type(None): "empty (null)"}


def kind(value: Any) -> str:
    """YAML words for what a value is, in messages ("'deployments' is a string; ...")."""
    return _KINDS.get(type(value), "a value of another kind")


def shape_error(message: str, node: Node | None, path: object) -> ConfigError:
    err = ConfigError(message, path=path, line=node.start_mark.line + 1 if node is not None else None)
    err.column = node.start_mark.column + 1 if node is not None else 1
    return err


# -- the typed model -------------------------------------------------------------------------


@dataclass(eq=False)
class Item:
    """One entry of the ``deployments`` list."""

    index: int
    node: MappingNode
    data: dict

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    @property
    def column(self) -> int:
        return self.node.start_mark.column + 1

    @cached_property
    def keys(self) -> dict[str, Key]:
        return keys(self.node)

    @cached_property
    def marks(self) -> dict[str, tuple[int, int]]:
        """key -> (line, column) where a message about its value should point."""
        return {name: key.mark for name, key in self.keys.items()}

    def own(self, key: str) -> Key | None:
        """The key as written in this entry (not merged in), or None."""
        found = self.keys.get(key)
        return found if found is not None and found.own else None

    def editable(self, key: str) -> bool:
        """Whether the value of ``key`` is a scalar written in this entry (no alias, no merge):
        text that can be replaced in place."""
        found = self.own(key)
        return found is not None and not found.alias and isinstance(found.value, ScalarNode)


@dataclass(eq=False)
class Section:
    """A project-level section (``pull``, ``build``, ``push``, ``definitions``)."""

    name: str
    value: Any
    lines: tuple[int, int]  # first and last line (1-based) of the key and its value


@dataclass(eq=False)
class PrefectYaml:
    """A parsed prefect.yaml of the right shape."""

    path: object
    text: str
    root: MappingNode | None
    data: dict
    items: list[Item]
    duplicates: list[tuple[int, int, str, int]]  # (line, column, key, line of the first one)
    deployments: Key | None = None  # the 'deployments' key, when present
    bom: str = ""  # "\ufeff" when the file starts with one (not part of ``text``)

    @cached_property
    def keys(self) -> dict[str, Key]:
        return keys(self.root) if self.root is not None else {}

    @cached_property
    def marks(self) -> dict[str, tuple[int, int]]:
        return {name: key.mark for name, key in self.keys.items()}

    def section(self, name: str) -> Section | None:
        key = self.keys.get(name)
        if key is None:
            return None
        last = node_end(key.value) if key.own and not key.alias else key.key.end_mark.index
        end_line = self.text.count("\n", 0, max(last - 1, key.key.start_mark.index)) + 1
        return Section(name, self.data.get(name), (key.key_mark[0], end_line))

    def uses(self, target: Node) -> int:
        """How many places of the document hold ``target`` (more than one: it has aliases)."""
        count = 0
        for parent in walk(self.root):
            if isinstance(parent, MappingNode):
                count += sum(k is target or v is target for k, v in parent.value)
            elif isinstance(parent, SequenceNode):
                count += sum(v is target for v in parent.value)
        return count


def walk(node: Node | None) -> Iterator[Node]:
    """Every distinct node under ``node`` (aliases visited once)."""
    if node is None:
        return
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, MappingNode):
            for k, v in reversed(current.value):
                stack.append(v)
                stack.append(k)
        elif isinstance(current, SequenceNode):
            stack.extend(reversed(current.value))


def node_end(node: Node) -> int:
    """Index just past the last character of real content under ``node``.

    A block collection's end mark lies after trailing comments and blank lines; aliases may
    point earlier in the file. Iterative, over the nodes written under ``node``.
    """
    best = node.start_mark.index
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ScalarNode) or getattr(current, "flow_style", False):
            best = max(best, current.end_mark.index)
            continue
        best = max(best, current.start_mark.index)
        if isinstance(current, MappingNode):
            for k, v in current.value:
                stack.append(k)
                stack.append(v)
        else:
            stack.extend(current.value)
    return best


def load(text: str, path: object = "prefect.yaml") -> PrefectYaml:
    """Parse and shape-check a prefect.yaml; ConfigError (file, line, one line) otherwise.

    An empty file is an empty mapping; ``deployments`` may be missing or null. A BOM is kept
    apart (``bom``): the parser's marks count from after it, and so does ``text``.
    """
    bom, text = ("\ufeff", text[1:]) if text.startswith("\ufeff") else ("", text)
    parsed = parse(text, path)
    root, data = parsed.root, parsed.data
    if data is None:
        root, data = None, {}
    if not isinstance(data, dict) or not isinstance(root, MappingNode | None):
        raise shape_error(f"prefect.yaml is {kind(data)}; it must be a mapping of keys "
                          "(name, deployments, ...)", root, path)
    items: list[Item] = []
    dep_key = None
    if root is not None:
        dep_key = keys(root).get("deployments")
    raw = data.get("deployments")
    if dep_key is not None and raw is not None:
        value = dep_key.value
        if not isinstance(raw, list) or not isinstance(value, SequenceNode):
            raise shape_error(f"'deployments' is {kind(raw)}; it must be a list of entries "
                              "('- name: ...')", value, path)
        for i, (item, node) in enumerate(zip(raw, value.value, strict=True)):
            if not isinstance(item, dict) or not isinstance(node, MappingNode):
                raise shape_error(f"deployment #{i + 1} is {kind(item)}; it must be a mapping "
                                  "with 'name' and 'entrypoint'", node, path)
            items.append(Item(i, node, item))
    duplicates = [(dup.start_mark.line + 1, dup.start_mark.column + 1, str(dup.value),
                   first.start_mark.line + 1) for first, dup in parsed.duplicates]
    return PrefectYaml(path, text, root, data, items, duplicates, dep_key, bom)

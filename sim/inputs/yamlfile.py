"""Reading YAML written by people: safe, bounded, and with errors that say what was expected.

Policies, reforms and region files are plain YAML: mappings, lists, text, numbers, true/false and
null. :func:`read_yaml` refuses anything else and anything that could make drgsim run away:

- files above :data:`MAX_BYTES`;
- language-specific or other explicit tags (``!!python/object``, ``!!binary``, ``!custom`` …);
- alias expansion ("billion laughs"): the document, with every alias expanded, may hold at most
  :data:`MAX_NODES` nodes; an alias that contains itself is refused; a document of more nodes
  than that even before expansion is refused as soon as the count is passed while composing;
- nesting deeper than :data:`MAX_DEPTH`;
- duplicate keys;
- implicit dates (dates stay text; drgsim parses them itself, strictly).

Every error is one :class:`~sim.errors.InputError` naming the file, the line and column, what was
found and what was expected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from sim.errors import InputError, check_input_file, decode_utf8, show

MAX_BYTES = 4 << 20
MAX_NODES = 200_000
MAX_DEPTH = 64
PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null",
                                                         "map", "seq")}
EXPECTED_FILE = "a UTF-8 YAML file"


class _TooMany(Exception):
    def __init__(self, mark):
        self.mark = mark


def _counted_compose_node(loader, parent, index):
    """PyYAML's ``compose_node``, counting the nodes as they are composed: a document of more
    than :data:`MAX_NODES` nodes is refused there, not after all of it is built (a 4 MiB flat
    list took ~65 s and 1.4 GB to reach the check on the whole document)."""
    loader.composed_nodes = getattr(loader, "composed_nodes", 0) + 1
    if loader.composed_nodes > MAX_NODES:
        raise _TooMany(loader.peek_event().start_mark)
    return yaml.composer.Composer.compose_node(loader, parent, index)


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML without implicit dates (we parse them ourselves) and with duplicate-key errors."""

    compose_node = _counted_compose_node


_StrictLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# YAML 1.2 numbers that YAML 1.1 (PyYAML) leaves as text: 3e8, 3.0e8, 1E-3 (no dot or no sign
# in the exponent). People write amounts so; they are numbers.
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


try:  # LibYAML's scanner and parser, when PyYAML was built with it (the PyPI wheels are)
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - a PyYAML without LibYAML: the Python reader alone
    _CParser = None

if _CParser is not None:
    class _FastStrictLoader(_CParser, yaml.composer.Composer, yaml.constructor.SafeConstructor,
                            yaml.resolver.Resolver):
        """:class:`_StrictLoader` with LibYAML's scanner and parser (C) under PyYAML's own
        composer and constructor (Python): the same nodes, resolvers and constructors, so the
        same values; the composer's recursion stays Python's (a deep file raises RecursionError
        instead of exhausting the C stack). Only for files that parse: any problem is
        reported by :class:`_StrictLoader` reading the file again (its messages and marks)."""

        def __init__(self, stream):
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

        # the Python composer, not CParser's own (C) composition
        get_single_node = yaml.composer.Composer.get_single_node
        compose_document = yaml.composer.Composer.compose_document
        compose_node = _counted_compose_node
        check_node = yaml.composer.Composer.check_node
        get_node = yaml.composer.Composer.get_node


class _Duplicate(Exception):
    def __init__(self, key: object, line: int):
        self.key, self.line = key, line


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            repeated = key in seen
        except TypeError:  # an unhashable key (a list or mapping as key)
            raise _Unhashable(key_node) from None
        if repeated:
            raise _Duplicate(key, key_node.start_mark.line + 1)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


class _Unhashable(Exception):
    def __init__(self, node: yaml.Node):
        self.node = node


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
if _CParser is not None:  # the very same resolvers and constructors
    _FastStrictLoader.yaml_implicit_resolvers = _StrictLoader.yaml_implicit_resolvers
    _FastStrictLoader.yaml_constructors = _StrictLoader.yaml_constructors


def _place(mark) -> str | None:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None


# PyYAML's problems → (what was found, what was expected)
_SYNTAX = (
    (r"expected <block end>, but found '?(.*?)'?$",
     lambda m: (f"{_token(m.group(1))} where an indented block should end",
                "consistent indentation with spaces (each key of a mapping at the same column)")),
    (r"expected (.*), but (?:found|got) '?(.*?)'?$",
     lambda m: (_token(m.group(2)), _token(m.group(1).strip("'")) if m.group(1).startswith("<")
                else m.group(1))),
    (r"mapping values are not allowed here",
     lambda m: ("':' inside a value", "one 'key: value' per line; quote text that contains ': '")),
    (r"could not find expected ':'",
     lambda m: ("a line without ':'", "'key: value'")),
    (r"found character '(.*)' that cannot start any token",
     lambda m: ("a tab" if m.group(1) == "\\t" else f"the character {m.group(1)!r}",
                "spaces for indentation (no tabs) and quotes around text starting with % @ `")),
    (r"found unexpected end of stream",
     lambda m: ("the end of the file inside quoted text", "a closing quote")),
    (r"found undefined alias '?(.*?)'?$",
     lambda m: (f"the alias *{m.group(1)} with no anchor",
                f"an anchor &{m.group(1)} defined before it")),
    (r"but found another document",
     lambda m: ("a second document ('---')", "a single YAML document")),
)


def _token(token: str) -> str:
    names = {"<stream end>": "the end of the file", "<block end>": "the end of a block",
             "<block mapping start>": "a mapping", "<block sequence start>": "a list",
             "<scalar>": "a value", "?": "a mapping key", "-": "a list item '-'",
             "<block collection start>": "a block"}
    return names.get(token, repr(token) if token else "something")


def _syntax_error(file: str, error: yaml.YAMLError) -> InputError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = (getattr(error, "problem", None) or str(error).splitlines()[0]).strip()
    for pattern, explain in _SYNTAX:
        match = re.search(pattern, problem)
        if match:
            found, expected = explain(match)
            break
    else:
        found, expected = problem, "well-formed YAML"
    return InputError(file, _place(mark), f"not valid YAML: found {found}", expected)


def _check_nodes(root: yaml.Node, file: str) -> None:
    """Tags, depth and the size of the document with every alias expanded (memoised)."""
    size: dict[int, int] = {}
    active: set[int] = set()

    def visit(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in size:
            return size[key]
        where = _place(node.start_mark)
        if key in active:
            raise InputError(file, where, "an alias that contains itself",
                             "aliases (*name) that refer to earlier, complete values")
        if depth > MAX_DEPTH:
            raise InputError(file, where, f"nesting deeper than {MAX_DEPTH} levels",
                             f"at most {MAX_DEPTH} levels of mappings and lists")
        if node.tag not in PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise InputError(file, where, f"the tag {show(tag)}",
                             "plain YAML without tags (mappings, lists, text, numbers, "
                             "true/false, null)")
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                total += visit(key_node, depth + 1) + visit(value_node, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += visit(item, depth + 1)
        active.discard(key)
        size[key] = total
        if total > MAX_NODES:
            raise InputError(file, where, f"aliases expand to more than {MAX_NODES:,} values",
                             "a document of plain size (anchors and aliases only for small "
                             "repeated values)")
        return total

    visit(root, 0)


# where LibYAML's scanner and PyYAML's Python one are known to differ (a review's differential
# fuzzing, issue 13): tabs as spacing, BOMs inside the text, '!' tags, '?' in flow values, '#'
# after a block scalar's indicator — and the characters the Python reader refuses
_UNLIKE = re.compile("[\t\ufeff!?]|[|>][-+0-9]*#|" + yaml.reader.Reader.NON_PRINTABLE.pattern)


def _shipped(path: Path) -> bool:
    """Whether ``path`` is one of drgsim's own scenario files (read by every run)."""
    from sim.resources import scenarios_root

    try:
        return path.resolve().is_relative_to(scenarios_root().resolve())
    except (OSError, ValueError):
        return False


def read_yaml(path: Path) -> Any:
    """Read one YAML file safely and strictly (see module docstring).

    drgsim's own scenario files (the region, policies and behaviour every run reads) are scanned
    and parsed by LibYAML under PyYAML's Python composer and constructor, ~7× faster to parse
    (~0.05 s of every run, issue 13), when they hold none of the constructs where the two
    scanners differ (:data:`_UNLIKE`); tests compare every shipped file with the Python reader's
    values. Files a user writes are read by the Python reader alone, as are shipped ones with any
    problem, so every refusal and value is the Python reader's."""
    path = Path(path)
    file = str(path)
    check_input_file(path, EXPECTED_FILE, max_bytes=MAX_BYTES)
    text = decode_utf8(path.read_bytes(), file, "a UTF-8 encoded YAML file")
    if "\x00" in text:
        raise InputError(file, f"line {text[: text.index(chr(0))].count(chr(10)) + 1}",
                         "a NUL character", "a text file")
    if _CParser is not None and _shipped(path) and not _UNLIKE.search(text):
        try:
            return _document(_FastStrictLoader, text, file)
        except Exception:  # noqa: BLE001 - any problem: read again for the Python reader's word
            pass
    try:
        return _document(_StrictLoader, text, file)
    except _Duplicate as dup:
        raise InputError(file, f"line {dup.line}", f"duplicate key {show(dup.key)}",
                         "each key once") from None
    except _Unhashable as bad:
        raise InputError(file, _place(bad.node.start_mark), "a list or mapping used as a key",
                         "keys that are text or numbers") from None
    except _TooMany as many:
        raise InputError(file, _place(many.mark), f"more than {MAX_NODES:,} values",
                         f"at most {MAX_NODES:,} mappings, lists and values in one file") from None
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        raise InputError(file, f"line {line}", f"the control character U+{error.character:04X}",
                         "printable text (YAML allows no control characters)") from None
    except yaml.YAMLError as error:
        raise _syntax_error(file, error) from None
    except RecursionError:
        raise InputError(file, None, "nesting too deep",
                         f"at most {MAX_DEPTH} levels of mappings and lists") from None


def _document(loader_class, text: str, file: str) -> Any:
    """The one document of ``text`` read by ``loader_class``, its nodes checked first."""
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_nodes(root, file)
        return loader.construct_document(root)
    finally:
        loader.dispose()

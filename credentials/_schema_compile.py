"""JSON Schema (draft 2020-12) compiled once into a plain Python predicate.

``jsonschema`` builds a validator object per subschema and resolves every
``$ref`` again on each call, which made schema validation most of the time of
issuing a credential. :func:`compile_schema` walks a schema once, resolves its
local references once and returns a closure that answers one question: does
the instance conform? It does not say why: callers run ``jsonschema`` (the
reference) only when the answer is no, to list every violation with the
messages users know.

Only the keywords the immigration vocabulary uses are compiled (see
:data:`_APPLY`); a schema with any other keyword raises
:class:`UnsupportedSchema`, and the caller keeps ``jsonschema`` for it. The
semantics follow ``jsonschema``'s ``Draft202012Validator``: ``object`` means a
``dict`` and ``array`` a ``list``, ``true`` is not ``1`` (``const``, ``enum``,
``uniqueItems``), ``pattern`` searches rather than anchoring, and ``format``
checks only the formats the caller hands over. The tests compare the two on
valid and mutated credentials.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Predicate", "UnsupportedSchema", "compile_schema"]

#: Does an instance conform?
Predicate = Callable[[Any], bool]

# Keywords that only annotate: they never make an instance invalid.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default"}
)


class UnsupportedSchema(Exception):
    """The schema uses a keyword (or a reference) this compiler does not handle."""


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict | list | int | float) or isinstance(b, dict | list | int | float):
        return False
    return bool(a == b)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


_TYPES: dict[str, Predicate] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": _is_number,
    "integer": lambda x: (
        (isinstance(x, int) and not isinstance(x, bool))
        or (isinstance(x, float) and x.is_integer())
    ),
}


class _Compiler:
    def __init__(self, root: Mapping[str, Any], formats: Mapping[str, Predicate]) -> None:
        self._root = root
        self._formats = formats
        self._refs: dict[str, Predicate] = {}

    def ref(self, pointer: object) -> Predicate:
        if not isinstance(pointer, str) or not pointer.startswith("#/"):
            raise UnsupportedSchema(f"only local references are compiled, not {pointer!r}")
        done = self._refs.get(pointer)
        if done is not None:
            return done
        # A placeholder first, so a recursive reference compiles to a late lookup.
        slot: list[Predicate] = []
        self._refs[pointer] = lambda x: slot[0](x)
        target: Any = self._root
        for part in pointer[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise UnsupportedSchema(f"the reference {pointer} names nothing")
            target = target[part]
        compiled = self.schema(target)
        slot.append(compiled)
        self._refs[pointer] = compiled
        return compiled

    def schema(self, schema: Any) -> Predicate:
        if schema is True:
            return lambda x: True
        if schema is False:
            return lambda x: False
        if not isinstance(schema, Mapping):
            raise UnsupportedSchema("a schema is an object or a boolean")
        checks: list[Predicate] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword in _PAIRED:
                continue
            builder = _APPLY.get(keyword)
            if builder is None:
                raise UnsupportedSchema(f"the keyword {keyword!r} is not compiled")
            checks.append(builder(self, value, schema))
        if "additionalProperties" in schema and "properties" not in schema:
            checks.append(_additional_alone(self, schema["additionalProperties"], schema))
        string = _string_leaf(schema, self._formats)
        if string is not None:
            return string
        closed = _object_node(self, schema)
        if closed is not None:
            return closed
        if not checks:
            return lambda x: True
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks
            return lambda x: first(x) and second(x)
        frozen = tuple(checks)

        def every(x: Any) -> bool:
            for check in frozen:  # noqa: SIM110 - a loop is faster than all() over a genexpr
                if not check(x):
                    return False
            return True

        return every


_OBJECT_KEYWORDS = frozenset({"type", "required", "properties", "additionalProperties"})


def _object_node(c: _Compiler, schema: Mapping[str, Any]) -> Predicate | None:
    """One closure for an object with required members, typed properties and no others."""
    if (
        schema.get("type") != "object"
        or not set(schema) - _ANNOTATIONS <= _OBJECT_KEYWORDS
        or "properties" not in schema
        or schema.get("additionalProperties", True) is not False
    ):
        return None
    known = {name: c.schema(sub) for name, sub in schema["properties"].items()}
    required = tuple(schema.get("required", ()))

    def check(x: Any) -> bool:
        if not isinstance(x, dict):
            return False
        for name in required:
            if name not in x:
                return False
        for name, sub in x.items():
            test = known.get(name)
            if test is None or not test(sub):
                return False
        return True

    return check


_STRING_KEYWORDS = frozenset({"type", "minLength", "maxLength", "pattern", "format", "enum"})


def _string_leaf(schema: Mapping[str, Any], formats: Mapping[str, Predicate]) -> Predicate | None:
    """One closure for the commonest schema, a string with bounds, pattern, format or enum."""
    if schema.get("type") != "string" or not set(schema) - _ANNOTATIONS <= _STRING_KEYWORDS:
        return None
    low = schema.get("minLength", 0)
    high = schema.get("maxLength")
    pattern = schema.get("pattern")
    search = re.compile(pattern).search if pattern is not None else None
    fmt = formats.get(schema["format"]) if "format" in schema else None
    enum = schema.get("enum")
    if enum is not None and not all(isinstance(v, str) for v in enum):
        return None
    allowed = frozenset(enum) if enum is not None else None

    def check(x: Any) -> bool:
        if not isinstance(x, str):
            return False
        if allowed is not None and x not in allowed:
            return False
        size = len(x)
        if size < low or (high is not None and size > high):
            return False
        if search is not None and search(x) is None:
            return False
        return fmt is None or fmt(x)

    return check


def _type(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    names = [value] if isinstance(value, str) else list(value)
    try:
        tests = tuple(_TYPES[n] for n in names)
    except (KeyError, TypeError) as exc:
        raise UnsupportedSchema(f"unknown type {value!r}") from exc
    if len(tests) == 1:
        return tests[0]
    return lambda x: any(t(x) for t in tests)


def _const(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    if isinstance(value, str):
        return lambda x: isinstance(x, str) and x == value
    return lambda x: _json_equal(x, value)


def _enum(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        allowed = frozenset(value)
        return lambda x: isinstance(x, str) and x in allowed
    options = list(value)
    return lambda x: any(_json_equal(x, v) for v in options)


def _pattern(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    search = re.compile(value).search
    return lambda x: not isinstance(x, str) or search(x) is not None


def _min_length(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    return lambda x: not isinstance(x, str) or len(x) >= value


def _max_length(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    return lambda x: not isinstance(x, str) or len(x) <= value


def _minimum(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    return lambda x: not _is_number(x) or x >= value


def _maximum(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    return lambda x: not _is_number(x) or x <= value


def _min_items(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    return lambda x: not isinstance(x, list) or len(x) >= value


def _max_items(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    return lambda x: not isinstance(x, list) or len(x) <= value


def _unique(items: list[Any]) -> bool:
    return all(not _json_equal(a, b) for i, a in enumerate(items) for b in items[i + 1 :])


def _unique_items(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    if value is not True:
        return lambda x: True
    return lambda x: not isinstance(x, list) or _unique(x)


def _items(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    each = c.schema(value)
    skip = len(schema.get("prefixItems", ()))

    def check(x: Any) -> bool:
        if not isinstance(x, list):
            return True
        for v in x[skip:] if skip else x:  # noqa: SIM110 - faster than all() over a genexpr
            if not each(v):
                return False
        return True

    return check


def _prefix_items(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    firsts = tuple(c.schema(s) for s in value)
    return lambda x: (
        not isinstance(x, list) or all(check(v) for check, v in zip(firsts, x, strict=False))
    )


def _contains(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    if "minContains" in schema or "maxContains" in schema:
        raise UnsupportedSchema("minContains / maxContains are not compiled")
    if isinstance(value, Mapping) and set(value) == {"const"} and isinstance(value["const"], str):
        wanted = value["const"]  # only a string equals a string
        return lambda x: not isinstance(x, list) or wanted in x
    match = c.schema(value)
    return lambda x: not isinstance(x, list) or any(match(v) for v in x)


def _required(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    names = tuple(value)
    return lambda x: not isinstance(x, dict) or all(n in x for n in names)


def _properties(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    known = {name: c.schema(sub) for name, sub in value.items()}
    extra_schema = schema.get("additionalProperties", True)
    if "patternProperties" in schema:
        raise UnsupportedSchema("patternProperties is not compiled")
    if extra_schema is True:

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            for name, sub in x.items():
                test = known.get(name)
                if test is not None and not test(sub):
                    return False
            return True

        return check
    extra = c.schema(extra_schema)

    def check_closed(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for name, sub in x.items():
            test = known.get(name, extra)
            if not test(sub):
                return False
        return True

    return check_closed


def _additional_alone(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    # additionalProperties without properties: every member is "additional".
    if "patternProperties" in schema:
        raise UnsupportedSchema("patternProperties is not compiled")
    extra = c.schema(value)
    return lambda x: not isinstance(x, dict) or all(extra(v) for v in x.values())


def _all_of(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    parts = tuple(c.schema(s) for s in value)

    def check(x: Any) -> bool:
        for part in parts:  # noqa: SIM110 - a loop is faster than all() over a genexpr
            if not part(x):
                return False
        return True

    return check


def _any_of(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    parts = tuple(c.schema(s) for s in value)

    def check(x: Any) -> bool:
        for part in parts:  # noqa: SIM110 - a loop is faster than any() over a genexpr
            if part(x):
                return True
        return False

    return check


def _ref(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    return c.ref(value)


def _format(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Predicate:
    test = c._formats.get(value)
    if test is None:
        return lambda x: True  # a format nobody checks is an annotation
    return test


_Builder = Callable[[_Compiler, Any, Mapping[str, Any]], Predicate]

_APPLY: dict[str, _Builder] = {
    "type": _type,
    "const": _const,
    "enum": _enum,
    "pattern": _pattern,
    "minLength": _min_length,
    "maxLength": _max_length,
    "minimum": _minimum,
    "maximum": _maximum,
    "minItems": _min_items,
    "maxItems": _max_items,
    "uniqueItems": _unique_items,
    "items": _items,
    "prefixItems": _prefix_items,
    "contains": _contains,
    "required": _required,
    "properties": _properties,
    "allOf": _all_of,
    "anyOf": _any_of,
    "$ref": _ref,
    "format": _format,
}

# Keywords read by another keyword's builder: additionalProperties by properties.
_PAIRED = frozenset({"additionalProperties"})


def compile_schema(schema: Mapping[str, Any], formats: Mapping[str, Predicate]) -> Predicate:
    """Compile ``schema`` into a predicate: ``True`` exactly when ``jsonschema``'s
    ``Draft202012Validator`` (with ``formats`` as its format checker) finds no error.

    Raises :class:`UnsupportedSchema` for a keyword or reference outside the
    compiled subset.
    """
    return _Compiler(schema, formats).schema(schema)

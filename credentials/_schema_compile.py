"""JSON Schema (draft 2020-12) compiled once into a plain Python predicate.

``jsonschema`` builds a validator object per subschema and resolves every
``$ref`` again on each call, which made schema validation most of the time of
issuing a credential. :func:`compile_schema` walks a schema once, resolves its
local references once and returns a function that answers one question: does
the instance conform? It does not say why: callers run ``jsonschema`` (the
reference) only when the answer is no, to list every violation with the
messages users know.

The function is generated Python source, compiled once: one function per
subschema reached through a property, a reference, prefixItems or anyOf, with
each keyword a line of it (``if <violated>: return False``), the keywords of
``allOf`` and ``items`` inlined and a type check made once (the keywords of other types
then vanish). Nothing from the schema is written into the source: names, constants,
patterns and bounds reach the generated code as bound values (``_k3``), so a
schema cannot inject code.

Only the keywords the immigration vocabulary uses are compiled (see
:data:`_KEYWORDS`); a schema with any other keyword raises
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


class _Gen:
    """Generates the source of one predicate function per subschema."""

    def __init__(self, root: Mapping[str, Any], formats: Mapping[str, Predicate]) -> None:
        self._root = root
        self._formats = formats
        self._names: dict[int, str] = {}  # id(subschema) -> function name
        self._refs: dict[str, str] = {}  # "#/..." -> function name
        self._keep: list[Any] = []  # the subschemas named, alive while we run
        self._following: set[int] = set()  # bare references being followed
        self.sources: list[str] = []
        self.values: dict[str, Any] = {"_json_equal": _json_equal, "_unique": _unique}
        # property tables: name -> {member name: function name}, bound after generation
        self.tables: dict[str, dict[str, str]] = {}

    def value(self, value: Any) -> str:
        """A name bound to ``value`` in the generated module."""
        name = f"_k{len(self.values)}"
        self.values[name] = value
        return name

    def function(self, schema: Any) -> str:
        """The name of the generated function of ``schema`` (generated once)."""
        if schema is True or schema is False:
            return self.value(_always if schema else _never)
        done = self._names.get(id(schema))
        if done is not None:
            return done
        if isinstance(schema, Mapping) and set(schema) - _ANNOTATIONS == {"$ref"}:
            # A bare reference is its target's function; one that leads back to itself
            # through bare references only would never reach a schema.
            if id(schema) in self._following:
                raise UnsupportedSchema("references that only lead to each other")
            self._following.add(id(schema))
            try:
                return self.ref(schema["$ref"])
            finally:
                self._following.discard(id(schema))
        name = f"_f{len(self._names)}"
        self._names[id(schema)] = name
        self._keep.append(schema)
        lines = self.body(schema, "x", 1)
        self.sources.append("\n".join([f"def {name}(x):", *lines, "    return True"]))
        return name

    def ref(self, pointer: object) -> str:
        if not isinstance(pointer, str) or not pointer.startswith("#/"):
            raise UnsupportedSchema(f"only local references are compiled, not {pointer!r}")
        done = self._refs.get(pointer)
        if done is not None:
            return done
        target: Any = self._root
        for part in pointer[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise UnsupportedSchema(f"the reference {pointer} names nothing")
            target = target[part]
        if not (target is True or target is False or isinstance(target, Mapping)):
            raise UnsupportedSchema("a schema is an object or a boolean")
        # function() names a subschema before generating its body, so a recursive
        # reference is a call by name.
        name = self.function(target)
        self._refs[pointer] = name
        return name

    def body(self, schema: Any, x: str, depth: int, known: str | None = None) -> list[str]:
        """Lines (indented ``depth`` levels) that ``return False`` when ``x`` violates
        ``schema``; ``known`` is a type ``x`` is already known to have."""
        pad = "    " * depth
        if schema is True:
            return []
        if schema is False:
            return [f"{pad}return False"]
        if not isinstance(schema, Mapping):
            raise UnsupportedSchema("a schema is an object or a boolean")
        for keyword in schema:
            if keyword not in _ANNOTATIONS and keyword not in _KEYWORDS:
                raise UnsupportedSchema(f"the keyword {keyword!r} is not compiled")
        if "patternProperties" in schema:
            raise UnsupportedSchema("patternProperties is not compiled")
        if "minContains" in schema or "maxContains" in schema:
            raise UnsupportedSchema("minContains / maxContains are not compiled")
        out: list[str] = []
        names = schema.get("type")
        if names is not None:
            wanted = [names] if isinstance(names, str) else names
            if not isinstance(wanted, list) or not all(n in _TYPE_TESTS for n in wanted):
                raise UnsupportedSchema(f"unknown type {names!r}")
            if known not in wanted:
                tests = " or ".join(f"({_TYPE_TESTS[n].format(x=x)})" for n in wanted)
                out.append(f"{pad}if not ({tests}): return False")
            if len(wanted) == 1:
                known = wanted[0]
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword in ("type", "additionalProperties"):
                continue
            if keyword in _LIMITS:
                out.extend(self._limit(keyword, value, x, depth, known))
            else:
                out.extend(getattr(self, _KEYWORDS[keyword])(value, schema, x, depth, known))
        if "additionalProperties" in schema and "properties" not in schema:
            out.extend(self._additional_alone(schema["additionalProperties"], x, depth, known))
        return out

    # -- guards: a keyword constrains only instances of its own type -----------------

    @staticmethod
    def _guard(kind: str, x: str, known: str | None) -> str | None:
        """The condition under which a ``kind`` keyword applies ("" when it surely does,
        None when it surely does not)."""
        if known is not None:
            applies = known == kind or (kind == "number" and known == "integer")
            if not applies:
                return None
            return "" if known == kind else _APPLIES[kind].format(x=x)
        return _APPLIES[kind].format(x=x)

    def _when(self, kind: str, x: str, depth: int, known: str | None, test: str) -> list[str]:
        guard = self._guard(kind, x, known)
        if guard is None:
            return []
        pad = "    " * depth
        if guard:
            return [f"{pad}if {guard} and ({test}): return False"]
        return [f"{pad}if {test}: return False"]

    # -- keywords ----------------------------------------------------------------------

    def _const(self, value: Any, schema: Any, x: str, depth: int, known: str | None) -> list[str]:
        pad = "    " * depth
        k = self.value(value)
        if isinstance(value, str):
            if known == "string":
                return [f"{pad}if {x} != {k}: return False"]
            return [f"{pad}if not (isinstance({x}, str) and {x} == {k}): return False"]
        return [f"{pad}if not _json_equal({x}, {k}): return False"]

    def _enum(self, value: Any, schema: Any, x: str, depth: int, known: str | None) -> list[str]:
        pad = "    " * depth
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            k = self.value(frozenset(value))
            if known == "string":
                return [f"{pad}if {x} not in {k}: return False"]
            return [f"{pad}if not (isinstance({x}, str) and {x} in {k}): return False"]
        k = self.value(list(value))
        return [f"{pad}if not any(_json_equal({x}, v) for v in {k}): return False"]

    def _pattern(self, value: Any, schema: Any, x: str, depth: int, known: str | None) -> list[str]:
        k = self.value(re.compile(value).search)
        return self._when("string", x, depth, known, f"{k}({x}) is None")

    def _limit(self, keyword: str, value: Any, x: str, depth: int, known: str | None) -> list[str]:
        # minLength, maxLength, minimum, maximum, minItems, maxItems: one comparison
        kind, test = _LIMITS[keyword]
        return self._when(kind, x, depth, known, test.format(x=x, k=self.value(value)))

    def _unique_items(
        self, value: Any, schema: Any, x: str, depth: int, known: str | None
    ) -> list[str]:
        if value is not True:
            return []
        return self._when("array", x, depth, known, f"not _unique({x})")

    def _block(
        self, kind: str, x: str, depth: int, known: str | None
    ) -> tuple[list[str], int] | None:
        """The opening line (if any) of a block run only for instances of ``kind``, and
        the depth of its body; None when the keyword cannot apply."""
        guard = self._guard(kind, x, known)
        if guard is None:
            return None
        if guard:
            return [f"{'    ' * depth}if {guard}:"], depth + 1
        return [], depth

    def _items(self, value: Any, schema: Any, x: str, depth: int, known: str | None) -> list[str]:
        block = self._block("array", x, depth, known)
        if block is None:
            return []
        lines, inner = block
        skip = len(schema.get("prefixItems", ()))
        v = f"v{depth}"
        source = f"{x}[{self.value(skip)}:]" if skip else x
        each = self.body(value, v, inner + 1)
        if not each:
            return []
        return [*lines, f"{'    ' * inner}for {v} in {source}:", *each]

    def _prefix_items(
        self, value: Any, schema: Any, x: str, depth: int, known: str | None
    ) -> list[str]:
        block = self._block("array", x, depth, known)
        if block is None:
            return []
        lines, inner = block
        pad = "    " * inner
        for position, sub in enumerate(value):
            f = self.function(sub)
            lines.append(
                f"{pad}if len({x}) > {position} and not {f}({x}[{position}]): return False"
            )
        return lines

    def _contains(
        self, value: Any, schema: Any, x: str, depth: int, known: str | None
    ) -> list[str]:
        if (
            isinstance(value, Mapping)
            and set(value) == {"const"}
            and isinstance(value["const"], str)
        ):
            wanted = self.value(value["const"])  # only a string equals a string
            return self._when("array", x, depth, known, f"{wanted} not in {x}")
        f = self.function(value)
        return self._when("array", x, depth, known, f"not any({f}(v) for v in {x})")

    def _required(
        self, value: Any, schema: Any, x: str, depth: int, known: str | None
    ) -> list[str]:
        names = list(value)
        if not names:
            return []
        test = " or ".join(f"{self.value(n)} not in {x}" for n in names)
        return self._when("object", x, depth, known, test)

    def _properties(
        self, value: Any, schema: Any, x: str, depth: int, known: str | None
    ) -> list[str]:
        block = self._block("object", x, depth, known)
        if block is None:
            return []
        lines, inner = block
        pad = "    " * inner
        table = f"_t{len(self.tables)}"
        self.tables[table] = {name: self.function(sub) for name, sub in value.items()}
        extra = schema.get("additionalProperties", True)
        k, v = f"k{depth}", f"v{depth}"
        lines.append(f"{pad}for {k}, {v} in {x}.items():")
        lines.append(f"{pad}    f = {table}.get({k})")
        if extra is True:
            lines.append(f"{pad}    if f is not None and not f({v}): return False")
        elif extra is False:
            lines.append(f"{pad}    if f is None or not f({v}): return False")
        else:
            other = self.function(extra)
            lines.append(f"{pad}    if not (f or {other})({v}): return False")
        return lines

    def _additional_alone(self, value: Any, x: str, depth: int, known: str | None) -> list[str]:
        # additionalProperties without properties: every member is "additional".
        f = self.function(value)
        return self._when("object", x, depth, known, f"not all({f}(v) for v in {x}.values())")

    def _all_of(self, value: Any, schema: Any, x: str, depth: int, known: str | None) -> list[str]:
        lines: list[str] = []
        for sub in value:  # the same instance: each part's lines, one after the other
            lines.extend(self.body(sub, x, depth, known))
        return lines

    def _any_of(self, value: Any, schema: Any, x: str, depth: int, known: str | None) -> list[str]:
        names = [self.function(sub) for sub in value]
        test = " or ".join(f"{f}({x})" for f in names) or "False"
        return [f"{'    ' * depth}if not ({test}): return False"]

    def _ref(self, value: Any, schema: Any, x: str, depth: int, known: str | None) -> list[str]:
        return [f"{'    ' * depth}if not {self.ref(value)}({x}): return False"]

    def _format(self, value: Any, schema: Any, x: str, depth: int, known: str | None) -> list[str]:
        test = self._formats.get(value)
        if test is None:
            return []  # a format nobody checks is an annotation
        return [f"{'    ' * depth}if not {self.value(test)}({x}): return False"]


def _always(x: Any) -> bool:
    return True


def _never(x: Any) -> bool:
    return False


def _unique(items: list[Any]) -> bool:
    if all(type(v) is str for v in items):  # strings are equal exactly when ==
        return len(set(items)) == len(items)
    return all(not _json_equal(a, b) for i, a in enumerate(items) for b in items[i + 1 :])


# Source of a type test on the instance ``{x}``; a boolean is no number.
_TYPE_TESTS: dict[str, str] = {
    "object": "isinstance({x}, dict)",
    "array": "isinstance({x}, list)",
    "string": "isinstance({x}, str)",
    "boolean": "isinstance({x}, bool)",
    "null": "{x} is None",
    "number": "isinstance({x}, (int, float)) and not isinstance({x}, bool)",
    "integer": (
        "(isinstance({x}, int) and not isinstance({x}, bool))"
        " or (isinstance({x}, float) and {x}.is_integer())"
    ),
}

# When a keyword of each kind applies (it constrains only instances of that kind).
_APPLIES: dict[str, str] = {
    "string": "isinstance({x}, str)",
    "array": "isinstance({x}, list)",
    "object": "isinstance({x}, dict)",
    "number": "(isinstance({x}, (int, float)) and not isinstance({x}, bool))",
}

# The keywords that compare the instance (of one kind) with the schema's value.
_LIMITS: dict[str, tuple[str, str]] = {
    "minLength": ("string", "len({x}) < {k}"),
    "maxLength": ("string", "len({x}) > {k}"),
    "minimum": ("number", "{x} < {k}"),
    "maximum": ("number", "{x} > {k}"),
    "minItems": ("array", "len({x}) < {k}"),
    "maxItems": ("array", "len({x}) > {k}"),
}

# The compiled keywords and the generator method of each ("": handled in _Gen.body).
_KEYWORDS: dict[str, str] = {
    "type": "",
    "const": "_const",
    "enum": "_enum",
    "pattern": "_pattern",
    "minLength": "",
    "maxLength": "",
    "minimum": "",
    "maximum": "",
    "minItems": "",
    "maxItems": "",
    "uniqueItems": "_unique_items",
    "items": "_items",
    "prefixItems": "_prefix_items",
    "contains": "_contains",
    "required": "_required",
    "properties": "_properties",
    "additionalProperties": "",
    "allOf": "_all_of",
    "anyOf": "_any_of",
    "$ref": "_ref",
    "format": "_format",
}


def compile_schema(schema: Mapping[str, Any], formats: Mapping[str, Predicate]) -> Predicate:
    """Compile ``schema`` into a predicate: ``True`` exactly when ``jsonschema``'s
    ``Draft202012Validator`` (with ``formats`` as its format checker) finds no error.

    Raises :class:`UnsupportedSchema` for a keyword or reference outside the
    compiled subset.
    """
    gen = _Gen(schema, formats)
    entry = gen.function(schema)
    namespace: dict[str, Any] = {"__builtins__": _BUILTINS, **gen.values}
    code = compile("\n\n".join(gen.sources), "<compiled JSON Schema>", "exec")
    exec(code, namespace)  # noqa: S102 - generated by _Gen: no text of the schema in it
    for table, members in gen.tables.items():
        namespace[table] = {name: namespace[f] for name, f in members.items()}
    predicate: Predicate = namespace[entry]
    return predicate


# The only builtins the generated source uses.
_BUILTINS: dict[str, Any] = {
    "isinstance": isinstance,
    "len": len,
    "any": any,
    "all": all,
    "dict": dict,
    "list": list,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
}

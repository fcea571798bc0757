"""Declarative schemas of the blog's inputs, as MkDocs' ``config_options``: each key of
``physai.yaml``, of front matter and of ``Experiment(...)`` is one ``Option`` (name, type,
default, one-line doc), and everything else is derived from it: the attributes of the typed
object the input becomes, the unknown-key (with "did you mean"), missing-key and wrong-type
errors naming file and line, and the reference table in the README.

A value of ``None`` (``key:`` with nothing after it) means "not given", as in MkDocs: the
default, or a missing-key error for a required option.
"""

from __future__ import annotations

import dataclasses
import json
import reprlib
from dataclasses import dataclass
from difflib import get_close_matches
from types import MappingProxyType
from typing import Any, Callable, Iterable

from physai_blog.errors import InputError, where


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of an option that has none: leaving it out is an error.
REQUIRED = _Required()


class Invalid(ValueError):
    """Raised by a type's ``convert``: with no text, the value is not of the type (the message
    says what was expected); with a text, that text says what else is wrong.  Never reaches a
    user: ``Schema.validate`` turns it into an InputError with file and line."""

    def __init__(self, problem: str = ""):
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class Type:
    """What values an option takes: ``name`` is how errors and docs say it ("a positive
    number"), ``convert`` returns the value to keep or raises Invalid, ``py`` annotates it."""

    name: str
    convert: Callable[[Any], Any]
    py: Any = object


@dataclass(frozen=True)
class Option:
    name: str
    type: Type
    default: Any = REQUIRED
    doc: str = ""
    example: str = ""       # shown when a required key is missing: "date: 2026-01-08"
    ignored: bool = False   # accepted (another tool's key) and dropped

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def fresh_default(self):
        """The default, a new copy when it is mutable (no two posts share one list)."""
        default = self.default
        return type(default)(default) if isinstance(default, (list, dict, set)) else default

    def field(self) -> dataclasses.Field:
        """The dataclass field holding this option."""
        if self.required:
            return dataclasses.field()
        if isinstance(self.default, (list, dict, set)):
            return dataclasses.field(default_factory=self.fresh_default)
        return dataclasses.field(default=self.default)

    def annotation(self):
        return self.type.py if self.required or self.default is not None else self.type.py | None


@dataclass(frozen=True)
class Schema:
    """The options of one input, and how its messages name a key.

    ``subject`` names a key ("key 'timeout'"); ``expected`` is the wrong-type message, from
    ``subject``, the type's ``text`` and the ``value`` given; ``unknown`` is the start of an
    unknown-key message, an error when ``strict`` and otherwise a warning.
    """

    options: tuple[Option, ...]
    subject: str = "{key!r}"
    expected: str = "{subject} must be {text}, not {value}"
    unknown: str = "unknown key {key!r}"
    strict: bool = True

    def __post_init__(self):
        object.__setattr__(self, "options", tuple(self.options))
        names = [o.name for o in self.options]
        if len(set(names)) != len(names):
            raise ValueError(f"a key declared twice: {names}")
        object.__setattr__(self, "_by_name", MappingProxyType({o.name: o for o in self.options}))
        # validate() runs once per post: its option lists are made once, here.
        accepted = tuple(o for o in self.options if not o.ignored)
        object.__setattr__(self, "_defaults", tuple(o for o in accepted if not o.required))
        object.__setattr__(self, "_required", tuple(o for o in accepted if o.required))
        object.__setattr__(self, "_fixed", {   # never changed: copied by defaults()
            o.name: o.default for o in self._defaults
            if not isinstance(o.default, (list, dict, set))})
        object.__setattr__(self, "_mutable", tuple(
            (o.name, o.default) for o in self._defaults
            if isinstance(o.default, (list, dict, set))))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def __getitem__(self, name: str) -> Option:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def defaults(self) -> dict:
        """A default for every option that has one (new copies of the mutable ones)."""
        out = self._fixed.copy()
        for name, default in self._mutable:
            out[name] = default.copy()
        return out

    def accepted(self) -> Iterable[Option]:
        """The options that become attributes (not the ignored ones)."""
        return (o for o in self.options if not o.ignored)

    def attributes(self, cls):
        """Class decorator, under ``@dataclass``: one attribute per accepted option, with its
        type and default, after the class's own."""
        own = dict(cls.__dict__.get("__annotations__", {}))
        for option in self.accepted():
            own[option.name] = option.annotation()
            setattr(cls, option.name, option.field())
        cls.__annotations__ = own
        return cls

    def validate(self, data: dict, lines: dict, rel: str,
                 warnings: list[str] | None = None) -> tuple[dict, list[InputError]]:
        """(a value for every accepted option, the errors): each key checked in file order,
        then the required keys that are missing; an invalid key leaves its default."""
        values = {o.name: o.fresh_default() for o in self._defaults}
        errors = []
        for key, value in data.items():
            line = lines.get(key, 1)
            option = self._by_name.get(key)
            if option is None:
                message = self.unknown.format(key=key) + did_you_mean(key, self.names)
                if self.strict or warnings is None:
                    errors.append(InputError(rel, line, message))
                else:
                    warnings.append(f"{where(rel, line)}: {message}")
            elif not option.ignored and not _missing(option, value):
                try:
                    values[key] = option.type.convert(value)
                except Invalid as exc:
                    errors.append(InputError(rel, line, self._message(option, value, exc)))
        for option in self._required:
            if _missing(option, data.get(option.name)):
                example = f" (e.g. {option.example})" if option.example else ""
                errors.append(InputError(rel, lines.get(option.name, 1),
                                         f"missing required key {option.name!r}{example}"))
        return values, errors

    def _message(self, option: Option, value, exc: Invalid) -> str:
        subject = self.subject.format(key=option.name)
        if exc.problem:
            return f"{subject}: {exc.problem}"
        return self.expected.format(subject=subject, text=option.type.name, value=shown(value))


def _missing(option: Option, value) -> bool:
    """None is "not given"; so is blank text for a required key."""
    return value is None or (option.required and isinstance(value, str) and not value.strip())


def did_you_mean(name: str, known: Iterable[str]) -> str:
    hint = get_close_matches(str(name), list(known), 1)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def shown(value) -> str:
    """A value as an error quotes it: one short line, however big or nested it is."""
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict, short.maxlevel = 40, 40, 4, 4, 2
    return short.repr(value)


def markdown_table(schema: Schema) -> str:
    """The schema as a Markdown table (key, type, default, doc), for the README."""
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for o in schema.options:
        cells = (f"`{o.name}`", "any" if o.ignored else o.type.name, _default_text(o), o.doc)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def _default_text(option: Option) -> str:
    if option.required:
        return "required"
    if option.default is None:
        return "–"
    default = list(option.default) if isinstance(option.default, tuple) else option.default
    return f"`{json.dumps(default)}`"


# -- types shared by the schemas ------------------------------------------------------------------

def text(numbers: bool = False, name: str = "text") -> Type:
    """Text as written; ``numbers``: a number is read as text too, and the text is stripped;
    ``name``: what errors call it ("a path to a .bib file")."""
    kinds = (str, int, float) if numbers else (str,)

    def convert(value):
        if not isinstance(value, kinds):
            raise Invalid()
        return str(value).strip() if numbers else value
    return Type(name, convert, str)


def number(positive: bool = True, unit: str = "") -> Type:
    """A finite-or-infinite number, not NaN, > 0 (``positive``) or >= 0; read as a float."""
    def convert(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value \
                or (value <= 0 if positive else value < 0):
            raise Invalid()
        return float(value)
    name = f"a {'positive' if positive else 'non-negative'} number"
    return Type(name + (f" of {unit}" if unit else ""), convert, float)


def _positive_integer(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid()
    return value


POSITIVE_INTEGER = Type("a positive integer", _positive_integer, int)


def _boolean(value) -> bool:
    if not isinstance(value, bool):
        raise Invalid()
    return value


BOOLEAN = Type("true or false", _boolean, bool)


def mapping(name: str = "a mapping") -> Type:
    def convert(value):
        if not isinstance(value, dict):
            raise Invalid()
        return dict(value)
    return Type(name, convert, dict)


def choice(noun: str, *values: str) -> Type:
    def convert(value):
        if value not in values:
            raise Invalid(f"unknown {noun} {shown(value)}; available: {', '.join(values)}")
        return value
    return Type(" or ".join(values), convert, str)


def _markdown(value) -> str:
    if value not in ("python-markdown", "kramdown"):
        raise Invalid()
    return value


#: How a post's Markdown is read (``render/kramdown.py``).
MARKDOWN = Type("python-markdown or kramdown", _markdown, str)

#: Another tool's key: any value, kept nowhere.
ANY = Type("any", lambda value: value)

"""User-facing input errors: one line naming the file, the place, the value and what was expected.

Every loader in drgsim raises :class:`InputError` for bad input; the command line prints
``drgsim: error: <message>`` and exits with code 2, never a traceback.
"""

from __future__ import annotations


class InputError(Exception):
    """A problem with something the user gave us (file, field, row, date, value, expectation)."""

    def __init__(
        self,
        file: str | None,
        where: str | None,
        problem: str,
        expected: str | None = None,
    ):
        self.file = file
        self.where = where
        self.problem = problem
        self.expected = expected
        parts = [p for p in (file, where) if p]
        message = ", ".join(parts)
        message = f"{message}: {problem}" if message else problem
        if expected:
            message += f"; expected {expected}"
        super().__init__(message)


def show(value: object, limit: int = 60) -> str:
    """A value as it should appear in an error message: quoted, short, on one line."""
    text = repr(value) if isinstance(value, str) else str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_json(path, expected: str) -> dict:
    """A JSON object from a file drgsim wrote; a truncated or edited file is one clear line."""
    import json

    file = str(path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        raise InputError(file, None, f"byte at position {error.start} is not UTF-8",
                         expected) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(file, f"line {error.lineno}, column {error.colno}",
                         f"not valid JSON ({error.msg})", expected) from None
    if not isinstance(value, dict):
        raise InputError(file, None, f"top level is {type(value).__name__}", expected)
    return value

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
        where: str | None = None,
        problem: str = "",
        expected: str | None = None,
    ):
        self.file = file
        self.where = where
        self.problem = problem
        self.expected = expected
        # the four parts are the args, so copies (SimPy re-raises ``type(e)(*e.args)``) and
        # pickles (errors from compare's worker processes) rebuild the same error
        super().__init__(file, where, problem, expected)

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.where) if p]
        message = ", ".join(parts)
        message = f"{message}: {self.problem}" if message else self.problem
        if self.expected:
            message += f"; expected {self.expected}"
        return message


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


def check_input_file(path, expected: str, max_bytes: int | None = None,
                     allow_empty: bool = False) -> int:
    """One line for an input path that is missing, a folder, not a regular file, unreadable,
    empty or too large; returns its size in bytes."""
    import os
    import stat
    from pathlib import Path

    path = Path(path)
    file = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(file, None, "file not found", expected) from None
    except NotADirectoryError:
        raise InputError(file, None, "file not found (a part of the path is a file)",
                         expected) from None
    except OSError as error:
        raise InputError(file, None, f"cannot be read ({error.strerror})", expected) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(file, None, "is a folder", f"{expected} (a file, not a folder)")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(file, None, "is not a regular file", expected)
    if not os.access(path, os.R_OK):
        raise InputError(file, None, "cannot be read (permission denied)", expected)
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as error:
        raise InputError(file, None, f"cannot be read ({error.strerror})", expected) from None
    if info.st_size == 0 and not allow_empty:
        raise InputError(file, None, "the file is empty", expected)
    if max_bytes is not None and info.st_size > max_bytes:
        raise InputError(file, None, f"the file is {info.st_size:,} bytes, above the limit of "
                         f"{max_bytes:,}", f"{expected} of at most {max_bytes // (1 << 20)} MiB")
    return info.st_size


def decode_utf8(raw: bytes, file: str, expected: str) -> str:
    """Bytes of a text file as text (a BOM is dropped); a bad byte is named with its line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(file, f"line {line}", f"byte 0x{raw[error.start]:02x} is not UTF-8",
                         expected) from None

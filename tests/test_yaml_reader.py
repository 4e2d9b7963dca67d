"""The YAML reader's fast path (issue 13): for drgsim's own scenario files, LibYAML scans and
parses and PyYAML's own composer and constructor build the values; a user's file, a file with a
construct where the two scanners differ, and anything wrong are read by the Python reader, whose
one-line errors stay as they were (tests/test_bad_input.py checks those)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.inputs import yamlfile

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
FILES = sorted(SCENARIOS.rglob("*.yaml"))


def _python_only(path: Path):
    text = path.read_text("utf-8")
    return yamlfile._document(yamlfile._StrictLoader, text, str(path))


def test_libyaml_is_there():
    assert yamlfile._CParser is not None, "PyYAML without LibYAML: every file takes the slow path"


def _spy(monkeypatch) -> list:
    used = []
    real = yamlfile._document

    def spy(loader_class, text, file):
        used.append(loader_class)
        return real(loader_class, text, file)

    monkeypatch.setattr(yamlfile, "_document", spy)
    return used


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SCENARIOS)) for p in FILES])
def test_every_shipped_file_reads_the_same_through_libyaml(path, monkeypatch):
    used = _spy(monkeypatch)
    fast = yamlfile.read_yaml(path)
    unlike = yamlfile._UNLIKE.search(path.read_text("utf-8"))
    assert used == [yamlfile._StrictLoader if unlike else yamlfile._FastStrictLoader]
    assert fast == _python_only(path)
    assert repr(fast) == repr(_python_only(path))  # the same types too (1 is not 1.0 or True)


def test_most_shipped_files_take_the_fast_path():
    fast = [p for p in FILES if not yamlfile._UNLIKE.search(p.read_text("utf-8"))]
    assert len(fast) >= len(FILES) - 2 and all(yamlfile._shipped(p) for p in FILES)


def test_a_users_file_is_read_by_the_python_reader_alone(tmp_path, monkeypatch):
    path = tmp_path / "policy.yaml"
    path.write_text("title: mine\nmethod: point\n", "utf-8")
    used = _spy(monkeypatch)
    assert yamlfile.read_yaml(path) == {"title": "mine", "method": "point"}
    assert used == [yamlfile._StrictLoader] and not yamlfile._shipped(path)


# where LibYAML and the Python scanner differ (found by a review's differential fuzzing): LibYAML
# accepts the first three and reads the last two otherwise; none may take the fast path
DIFFERING = ["a:\t1\n", "a: x\ty\n", "name: A\t# c\n", "a: |# c\n  x\n", "a: >-# c\n  x\n",
             "q: [why?, how]\n", "{a?b: 1}\n", "a: !\n", "- !\n", "---\n\ufeffa: 1\n",
             "a:\n\ufeff  b: 1\n"]


@pytest.mark.parametrize("body", DIFFERING)
def test_constructs_where_the_scanners_differ_take_the_python_reader(body, tmp_path,
                                                                     monkeypatch):
    assert yamlfile._UNLIKE.search(body)
    path = tmp_path / "shipped-like.yaml"
    path.write_text(body, "utf-8")
    monkeypatch.setattr(yamlfile, "_shipped", lambda path: True)  # as if it were drgsim's own
    used = _spy(monkeypatch)
    try:
        yamlfile.read_yaml(path)
    except yamlfile.InputError:
        pass
    assert used == [yamlfile._StrictLoader]


@pytest.mark.parametrize("body", [
    "a: 1\na: 2\n",                       # duplicate key
    "a: !!python/object:os.system x\n",   # a tag
    "a: [1, 2\n",                          # unclosed flow list
    "a:\n\t- 1\n",                         # a tab
    "a: b: c\n",                           # mapping values here
    "? [1, 2]\n: x\n",                     # a list as key
    "x: &a [*a]\n",                        # an alias inside itself
])
def test_a_bad_file_is_refused_with_the_python_readers_words(tmp_path, body, monkeypatch):
    path = tmp_path / "bad.yaml"
    path.write_text(body, "utf-8")
    monkeypatch.setattr(yamlfile, "_shipped", lambda path: True)  # the fast path first
    with pytest.raises(yamlfile.InputError) as fast:
        yamlfile.read_yaml(path)
    monkeypatch.setattr(yamlfile, "_CParser", None)  # the Python reader alone, as before
    with pytest.raises(yamlfile.InputError) as slow:
        yamlfile.read_yaml(path)
    assert str(fast.value) == str(slow.value)


def test_values_read_through_libyaml_keep_the_house_rules(tmp_path, monkeypatch):
    monkeypatch.setattr(yamlfile, "_shipped", lambda path: True)
    path = tmp_path / "rules.yaml"
    path.write_text("when: 2024-01-01\nbig: 3e8\nsmall: 1E-3\nflag: yes\nnone: null\n"
                    "text: 医保\n", "utf-8")
    assert yamlfile.read_yaml(path) == {"when": "2024-01-01", "big": 3e8, "small": 1e-3,
                                        "flag": True, "none": None, "text": "医保"}


def test_a_document_of_too_many_values_is_refused_where_the_count_is_passed(tmp_path,
                                                                            monkeypatch):
    """A flat list of more values than the cap is refused once the cap is passed, not after the
    whole document is built (a 4 MiB list took ~65 s and 1.4 GB that way; 8 s and 140 MB now).
    The cap is lowered to 1,000 here so that the test reads a small file."""
    monkeypatch.setattr(yamlfile, "MAX_NODES", 1_000)
    path = tmp_path / "flat.yaml"
    path.write_text("a: [" + "1," * 5_000 + "1]\n", "utf-8")
    with pytest.raises(yamlfile.InputError) as refused:
        yamlfile.read_yaml(path)
    message = str(refused.value)
    assert "more than 1,000 values" in message and "at most 1,000" in message
    column = int(message.split("column ")[1].split(":")[0])
    assert column < 2 * 1_000 + 10 < path.stat().st_size / 4  # stopped at the first fifth

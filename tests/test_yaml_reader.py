"""The YAML reader's fast path (issue 13): LibYAML scans and parses, PyYAML's own composer and
constructor build the values; anything wrong is read again by the Python reader, whose one-line
errors stay as they were (tests/test_bad_input.py checks those)."""

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


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SCENARIOS)) for p in FILES])
def test_every_shipped_file_reads_the_same_through_libyaml(path, monkeypatch):
    used = []
    real = yamlfile._document

    def spy(loader_class, text, file):
        used.append(loader_class)
        return real(loader_class, text, file)

    monkeypatch.setattr(yamlfile, "_document", spy)
    fast = yamlfile.read_yaml(path)
    assert used == [yamlfile._FastStrictLoader]  # no fall-back for a good file
    assert fast == _python_only(path)
    assert repr(fast) == repr(_python_only(path))  # the same types too (1 is not 1.0 or True)


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
    with pytest.raises(yamlfile.InputError) as fast:
        yamlfile.read_yaml(path)
    monkeypatch.setattr(yamlfile, "_CParser", None)  # the Python reader alone, as before
    with pytest.raises(yamlfile.InputError) as slow:
        yamlfile.read_yaml(path)
    assert str(fast.value) == str(slow.value)


def test_values_read_through_libyaml_keep_the_house_rules(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("when: 2024-01-01\nbig: 3e8\nsmall: 1E-3\nflag: yes\nnone: null\n"
                    "text: 医保\n", "utf-8")
    assert yamlfile.read_yaml(path) == {"when": "2024-01-01", "big": 3e8, "small": 1e-3,
                                        "flag": True, "none": None, "text": "医保"}

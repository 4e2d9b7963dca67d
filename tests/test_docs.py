"""The docs name only files that exist in the repository (issue 14, item 7): every file path
written in README and docs — a markdown link or a `path` in backticks under one of the project's
folders — exists, and none points outside the repository (a fresh clone must be enough)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted(path for path in {ROOT / "README.md", *ROOT.glob("docs/*.md"),
                                 *ROOT.glob("*/README.md"), *ROOT.glob("scenarios/*/README.md")}
              if not path.relative_to(ROOT).parts[0].startswith("."))  # not .pytest_cache's
FOLDERS = ("sim", "agents", "calibration", "scenarios", "tests", "benchmarks", "docs", "drgsim",
           ".ci", "outputs")
FOLDER = "|".join(re.escape(folder) for folder in FOLDERS)
PATH = re.compile(rf"`((?:{FOLDER})/[^`\s]*)`|\]\(([^)\s]+)\)")
# written by a command, not kept in the repository
GENERATED = ("benchmarks/_work/", "benchmarks/results/against-run-")
OUTSIDE = re.compile(r"(?<![\w.])(?:\.\./|/work/|seeds/|data/payment_tables)")


def _paths(doc: Path):
    for number, line in enumerate(doc.read_text("utf-8").splitlines(), start=1):
        for match in PATH.finditer(line):
            yield number, match.group(1) or match.group(2)


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_every_named_file_exists(doc):
    missing = []
    for number, ref in _paths(doc):
        if ref.startswith(("http://", "https://", "mailto:", "#")):
            continue
        path = ref.split("#")[0].split(":")[0].rstrip(".,;)")
        if (not path or any(ch in path for ch in "*<>{}") or path.startswith(GENERATED)
                or re.search(r"[A-Z]{2,}", Path(path).name)):  # a placeholder: REV, DIR, NAME
            continue
        if not ((ROOT / path).exists() or (doc.parent / path).exists()):
            missing.append(f"line {number}: {ref}")
    assert not missing, f"{doc.relative_to(ROOT)} names files that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_no_doc_points_outside_the_repository(doc):
    outside = [f"line {n}: {line.strip()[:80]}"
               for n, line in enumerate(doc.read_text("utf-8").splitlines(), start=1)
               if OUTSIDE.search(line)]
    assert not outside, f"{doc.relative_to(ROOT)} points outside the repository: {outside}"

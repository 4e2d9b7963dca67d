"""PDF prints under way (issue 13): a language's print runs while the next language is drawn
(:func:`sim.report.pdf.start_pdf`), and :func:`sim.report.briefing.write_reports` waits for the
prints after the last page. A browser that fails says why in one line, and one that is under way
when the build fails (Ctrl-C) is ended with its temporary folder. A small stand-in for Chromium
plays the browser, so these need no Chromium."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from sim.report.briefing import write_reports
from sim.report.pdf import PdfSkipped, print_pdf, start_pdf

BROWSER = '''
import os, sys, time
from pathlib import Path
mode = os.environ["FAKE_BROWSER_MODE"]
Path(os.environ["FAKE_BROWSER_PIDS"], str(os.getpid())).write_text(" ".join(sys.argv[1:]))
target = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--print-to-pdf="))
if mode == "fail":
    print("[0101/000000.000:ERROR:fake.cc(1)] first line", file=sys.stderr)
    print("[0101/000000.000:ERROR:fake.cc(2)] the page could not be printed", file=sys.stderr)
    sys.exit(3)
if mode == "hang":
    time.sleep(120)
time.sleep(0.3)
Path(target).write_bytes(b"%PDF-1.4 fake " + sys.argv[-1].encode())
'''


@pytest.fixture
def browser(tmp_path, monkeypatch):
    """A stand-in for Chromium; returns the folder where each start leaves its pid."""
    script = tmp_path / "browser.py"
    script.write_text(BROWSER, "utf-8")
    launcher = tmp_path / "chromium"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n', "utf-8")
    launcher.chmod(0o755)
    pids = tmp_path / "pids"
    pids.mkdir()
    monkeypatch.setenv("DRGSIM_CHROMIUM", str(launcher))
    monkeypatch.setenv("FAKE_BROWSER_PIDS", str(pids))
    monkeypatch.setenv("FAKE_BROWSER_MODE", "ok")
    return pids


def gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def work_folders(pids: Path) -> list[Path]:
    """The temporary folders of the prints started (from each browser's --user-data-dir)."""
    folders = []
    for record in pids.iterdir():
        profile = next(a.split("=", 1)[1] for a in record.read_text().split()
                       if a.startswith("--user-data-dir="))
        folders.append(Path(profile).parent)
    return folders


def started(pids: Path, count: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while len(list(pids.iterdir())) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_print_runs_while_the_caller_goes_on(browser, tmp_path):
    first = start_pdf("<p>zh</p>", tmp_path / "zh.pdf")
    second = start_pdf("<p>en</p>", tmp_path / "en.pdf")
    assert started(browser, 2)  # both browsers at once, before either is waited for
    first.finish()
    second.finish()
    assert (tmp_path / "zh.pdf").read_bytes().startswith(b"%PDF-1.4 fake file://")
    assert (tmp_path / "en.pdf").is_file()
    assert not any(folder.exists() for folder in work_folders(browser))


def test_a_failing_browser_says_why_in_one_line(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "fail")
    with pytest.raises(PdfSkipped) as raised:
        print_pdf("<p>x</p>", tmp_path / "x.pdf")
    message = str(raised.value)
    assert "failed (exit 3" in message and "the page could not be printed" in message
    assert "\n" not in message and not (tmp_path / "x.pdf").exists()
    assert not any(folder.exists() for folder in work_folders(browser))


def test_a_print_over_its_time_limit_is_ended(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "hang")
    with pytest.raises(PdfSkipped, match="did not finish within 1 s"):
        print_pdf("<p>x</p>", tmp_path / "x.pdf", seconds=1)
    [pid] = [int(p.name) for p in browser.iterdir()]
    assert gone(pid)
    assert not any(folder.exists() for folder in work_folders(browser))


def test_write_reports_prints_every_language_and_waits_for_the_prints(browser, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    drawn = []

    def draw(lang, where):
        # Chinese's print is under way while English is drawn: started, not yet waited for
        drawn.append((lang, started(browser, 1, seconds=0 if lang == "zh" else 10),
                      sorted(p.name for p in folder.glob("report.*.pdf*"))))
        where.mkdir(parents=True)
        return []

    written = write_reports(folder, ["zh", "en"], draw, lambda lang, charts: f"<p>{lang}</p>")
    assert drawn == [("zh", False, []), ("en", True, [])]
    assert [p.name for p in written.pdfs] == ["report.zh.pdf", "report.en.pdf"]
    assert written.notes == []
    for lang in ("zh", "en"):
        assert (folder / f"report.{lang}.pdf").read_bytes().startswith(b"%PDF-1.4 fake")
    assert not list(folder.glob("*.partial-*"))


def test_write_reports_notes_a_failed_print_and_keeps_the_html(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "fail")
    folder = tmp_path / "folder"
    folder.mkdir()
    written = write_reports(folder, ["zh", "en"], lambda lang, where: where.mkdir(
        parents=True) or [], lambda lang, charts: f"<p>{lang}</p>")
    assert written.pdfs == [] and len(written.notes) == 2
    assert written.notes[0].startswith("report.zh.pdf skipped: ")
    assert "failed (exit 3" in written.notes[1]
    assert (folder / "report.en.html").read_text("utf-8") == "<p>en</p>"
    assert not list(folder.glob("*.pdf*"))
    assert not any(folder.exists() for folder in work_folders(browser))


def test_an_interrupted_build_ends_the_print_under_way(browser, tmp_path, monkeypatch):
    """Ctrl-C while English is drawn: the Chinese page's browser is ended, nothing is left."""
    monkeypatch.setenv("FAKE_BROWSER_MODE", "hang")
    folder = tmp_path / "folder"
    folder.mkdir()

    def draw(lang, where):
        if lang == "en":
            assert started(browser, 1)
            raise KeyboardInterrupt
        where.mkdir(parents=True)
        return []

    with pytest.raises(KeyboardInterrupt):
        write_reports(folder, ["zh", "en"], draw, lambda lang, charts: f"<p>{lang}</p>")
    [pid] = [int(p.name) for p in browser.iterdir()]
    assert gone(pid)
    assert [p for p in folder.rglob("*") if p.is_file() or "partial" in p.name] == []
    assert not any(folder.exists() for folder in work_folders(browser))

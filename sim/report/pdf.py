"""A report page printed to PDF by headless Chromium (the browser the page is tested in), for the
printed briefing pack. Chromium is found as ``$DRGSIM_CHROMIUM`` (a path), else ``chromium`` on
the PATH, else ``/usr/bin/chromium`` (Debian's package). Every print gets a new empty profile in
a temporary folder, no network services, and a time limit; the browser's whole process group is
ended if it overruns. The print waits for the page's fonts (``--virtual-time-budget``): an
English page fetches its embedded Chinese font only when it lays out a Chinese word, and
Chromium printed before it had loaded (boxes, or no words at all). When Chromium is absent or
fails, :class:`PdfSkipped` says why in one line, and the caller keeps the HTML.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

ENVIRONMENT = "DRGSIM_CHROMIUM"
DEBIAN = Path("/usr/bin/chromium")
SECONDS = 120


class PdfSkipped(RuntimeError):
    """No PDF was printed; the message says why (one line)."""


def find_chromium() -> Path:
    """The Chromium to print with, or :class:`PdfSkipped` naming what was looked for."""
    given = os.environ.get(ENVIRONMENT)
    if given is not None:
        path = Path(given)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise PdfSkipped(f"{ENVIRONMENT}={given!r} is not an executable file")
        return path
    found = shutil.which("chromium")
    if found:
        return Path(found)
    if DEBIAN.is_file() and os.access(DEBIAN, os.X_OK):
        return DEBIAN
    raise PdfSkipped("no Chromium found (install the Debian package chromium, or set "
                     f"{ENVIRONMENT} to a Chromium or Chrome executable)")


def print_pdf(page: str, pdf: Path, seconds: float = SECONDS) -> None:
    """Print the HTML text ``page`` to the file ``pdf`` (A4, the page's print styles, no header
    or footer of the browser's own), or raise :class:`PdfSkipped`."""
    start_pdf(page, pdf, seconds).finish()


def start_pdf(page: str, pdf: Path, seconds: float = SECONDS) -> PdfPrint:
    """Start printing ``page`` to ``pdf`` and return at once: Chromium works in its own processes
    while the caller goes on (a report's other language is drawn meanwhile; issue 13), and
    :meth:`PdfPrint.finish` waits for it. Raises :class:`PdfSkipped` when no browser starts."""
    return PdfPrint(page, Path(pdf), seconds)


class PdfPrint:
    """One Chromium print under way (:func:`start_pdf`). :meth:`finish` waits for it and moves
    the PDF into place or raises :class:`PdfSkipped`; :meth:`cancel` ends it. Either ends the
    browser's whole process group and removes its temporary folder."""

    def __init__(self, page: str, pdf: Path, seconds: float = SECONDS):
        browser = find_chromium()
        self.browser, self.pdf, self.seconds = browser, pdf, seconds
        self.process: subprocess.Popen | None = None
        self.work = Path(tempfile.mkdtemp(prefix="drgsim-pdf-"))
        try:
            source, self.printed = self.work / "report.html", self.work / "report.pdf"
            profile, self.errors = self.work / "profile", self.work / "stderr.txt"
            source.write_text(page, encoding="utf-8", newline="\n")
            profile.mkdir()
            command = [str(browser), "--headless", "--no-sandbox", "--disable-gpu",
                       "--disable-background-networking", "--disable-component-update",
                       "--disable-sync", "--no-first-run", "--disable-extensions",
                       f"--user-data-dir={profile}", "--no-pdf-header-footer",
                       "--virtual-time-budget=10000",
                       f"--print-to-pdf={self.printed}", source.as_uri()]
            # the browser's messages go to a file, not a pipe: nobody reads while it works
            with open(self.errors, "wb") as errors:
                self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                                stderr=errors, stdin=subprocess.DEVNULL,
                                                start_new_session=True)
        except OSError as error:
            self.cancel()
            raise PdfSkipped(f"{browser} could not be started ({error.strerror})") from None
        except BaseException:
            self.cancel()
            raise
        self.deadline = time.monotonic() + seconds

    def finish(self) -> None:
        """Wait for the print (until its time limit) and move the PDF to its place."""
        process, browser = self.process, self.browser
        assert process is not None, "a print is finished once"
        try:
            try:
                process.wait(timeout=max(self.deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                raise PdfSkipped(f"{browser} did not finish within {self.seconds:g} s") from None
            printed = self.printed
            if process.returncode != 0 or not printed.is_file() or printed.stat().st_size == 0:
                errors = self.errors.read_text("utf-8", errors="replace")
                last = next((line for line in reversed(errors.splitlines()) if line.strip()),
                            "")
                raise PdfSkipped(f"{browser} failed (exit {process.returncode}"
                                 + (f": {last.strip()[:160]}" if last else "") + ")")
            shutil.move(printed, self.pdf)
        finally:  # Ctrl-C too: no browser left behind
            self.cancel()

    def cancel(self) -> None:
        """End the browser (the renderer and zygote it started, if any are left) and remove
        the temporary folder."""
        if self.process is not None:
            _end(self.process)
            self.process = None
        shutil.rmtree(self.work, ignore_errors=True)


def _end(process: subprocess.Popen) -> None:
    """End the browser's process group (it was started in a session of its own)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass

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
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="drgsim-pdf-") as work:
        work = Path(work)
        source, printed, profile = work / "report.html", work / "report.pdf", work / "profile"
        source.write_text(page, encoding="utf-8", newline="\n")
        profile.mkdir()
        command = [str(browser), "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--no-first-run", "--disable-extensions",
                   f"--user-data-dir={profile}", "--no-pdf-header-footer",
                   "--virtual-time-budget=10000",
                   f"--print-to-pdf={printed}", source.as_uri()]
        try:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                       start_new_session=True, text=True, errors="replace")
        except OSError as error:
            raise PdfSkipped(f"{browser} could not be started ({error.strerror})") from None
        try:
            _, errors = process.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            _end(process)
            raise PdfSkipped(f"{browser} did not finish within {seconds:g} s") from None
        except BaseException:  # Ctrl-C: no browser left behind
            _end(process)
            raise
        finally:
            _end(process)  # the renderer and zygote it started, if any are left
        if process.returncode != 0 or not printed.is_file() or printed.stat().st_size == 0:
            last = next((line for line in reversed(errors.splitlines()) if line.strip()), "")
            raise PdfSkipped(f"{browser} failed (exit {process.returncode}"
                             + (f": {last.strip()[:160]}" if last else "") + ")")
        shutil.move(printed, pdf)


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

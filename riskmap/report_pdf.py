"""Printing an HTML report to PDF (A4) with headless Chromium through Playwright, network blocked."""

from __future__ import annotations

import html as _html
import os
from pathlib import Path

from riskmap._errors import RiskmapError
from riskmap.i18n import _
from riskmap.io import atomic_path

__all__ = ["html_to_pdf", "find_browser", "browser_install_paths", "playwright_chromium", "BROWSER_ENV"]

#: Environment variable naming the browser executable to print with (checked first).
BROWSER_ENV = "RISKMAP_CHROMIUM"

#: Executable names looked up on PATH, in order (Chromium, Chrome, Edge).
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome",
                 "microsoft-edge", "microsoft-edge-stable", "msedge")


def browser_install_paths() -> list[Path]:
    """Usual install places of Chromium, Chrome and Edge on Windows and macOS.

    :func:`find_browser` looks there after ``PATH`` (``%PROGRAMFILES%``, ``%PROGRAMFILES(X86)%``,
    ``%LOCALAPPDATA%``, ``/Applications`` and ``~/Applications``).

    Returns
    -------
    list of pathlib.Path
        Candidate executables, in the order they are tried (they need not exist).

    Examples
    --------
    >>> any(p.name == "Google Chrome" for p in browser_install_paths())
    True
    """
    out: list[Path] = []
    for var in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA"):
        base = os.environ.get(var)
        if base:
            out += [Path(base) / "Google" / "Chrome" / "Application" / "chrome.exe",
                    Path(base) / "Microsoft" / "Edge" / "Application" / "msedge.exe",
                    Path(base) / "Chromium" / "Application" / "chrome.exe"]
    out += [Path(r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe"),
            Path(r"C:\Program Files\Google\Chrome\Application\chrome.exe")]
    for app in ("Google Chrome.app/Contents/MacOS/Google Chrome", "Chromium.app/Contents/MacOS/Chromium",
                "Microsoft Edge.app/Contents/MacOS/Microsoft Edge"):
        out += [Path("/Applications") / app, Path.home() / "Applications" / app]
    return out


def find_browser() -> str | None:
    """The Chromium-family browser to print PDFs with, or ``None`` when none is installed.

    Looked up in order: ``$RISKMAP_CHROMIUM``; ``chromium``, ``google-chrome``,
    ``msedge`` ... on ``PATH``; the usual Windows and macOS install folders;
    Playwright's own downloaded Chromium (``playwright install chromium``).

    Examples
    --------
    >>> find_browser()  # doctest: +SKIP
    '/usr/bin/chromium'
    """
    import shutil

    env = os.environ.get(BROWSER_ENV)
    if env:
        return env if Path(env).is_file() else None
    for name in BROWSER_NAMES:
        hit = shutil.which(name)
        if hit:
            return hit
    for p in browser_install_paths():
        if p.is_file():
            return str(p)
    return playwright_chromium()


def playwright_chromium() -> str | None:
    """Playwright's downloaded Chromium, when Playwright is installed and has one (no browser is started).

    The last place :func:`find_browser` looks (``playwright install chromium`` puts it there).

    Returns
    -------
    str or None
        The executable, or None without Playwright or its Chromium.

    Examples
    --------
    >>> playwright_chromium()  # doctest: +SKIP
    '/root/.cache/ms-playwright/chromium-1140/chrome-linux/chrome'
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as p:
            exe = p.chromium.executable_path
    except Exception:  # noqa: BLE001 - no driver or no browser: not found
        return None
    return exe if exe and Path(exe).is_file() else None


def html_to_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, *,
                executable_path: str | None = None, footer: str | None = None) -> Path:
    """Print an HTML file to PDF (A4) with headless Chromium via Playwright, atomically.

    All network requests are blocked while printing. Pages are numbered in
    the footer, after the (escaped) ``footer`` text, in the current output
    language (:func:`riskmap.i18n.use_lang`: "page 1 of 9", "стр. 1 из 9").

    Raises
    ------
    RiskmapError
        Playwright or Chromium is not available, or printing failed.

    Examples
    --------
    >>> html_to_pdf("out/drina_report.html", "out/drina_report.pdf")  # doctest: +SKIP
    """
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        from riskmap._extras import missing_message

        raise RiskmapError(f"{missing_message('playwright')}, or use --no-pdf") from e
    exe = executable_path or find_browser()
    if exe is None or not Path(exe).is_file():
        where = (f"{BROWSER_ENV}={os.environ[BROWSER_ENV]} is not a file" if os.environ.get(BROWSER_ENV)
                 else "no Chromium, Chrome or Edge was found")
        raise RiskmapError(f"PDF output needs a Chromium-family browser, but {where}: install one (e.g. apt "
                           f"install chromium, or playwright install chromium) or set {BROWSER_ENV}=PATH; "
                           "use --no-pdf to skip the PDF")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            try:
                page = browser.new_page(java_script_enabled=False)  # the report has no scripts
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith(("file:", "data:")) else route.abort())
                page.goto(html_path.as_uri(), wait_until="load")
                pages = _("{footer} page {page} of {total}").format(
                    footer=_html.escape(footer or ""), page='<span class="pageNumber"></span>',
                    total='<span class="totalPages"></span>')
                foot = f'<div style="font-size:7pt;color:#555;width:100%;text-align:center">{pages}</div>'
                with atomic_path(pdf_path) as tmp:
                    page.pdf(path=str(tmp), format="A4", print_background=True, display_header_footer=True,
                             header_template="<div></div>", footer_template=foot,
                             margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})
            finally:
                browser.close()
    except RiskmapError:
        raise
    except Exception as e:  # noqa: BLE001 - any browser failure becomes a clear message
        raise RiskmapError(f"printing {html_path} to PDF failed: {type(e).__name__}: {e}") from None
    return pdf_path

"""Printing an HTML report to PDF (A4) with headless Chromium through Playwright, network blocked."""

from __future__ import annotations

import html as _html
import os
from pathlib import Path

from riskmap._errors import RiskmapError
from riskmap.io import atomic_path

__all__ = ["html_to_pdf"]


def html_to_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, *,
                executable_path: str | None = None, footer: str | None = None) -> Path:
    """Print an HTML file to PDF (A4) with headless Chromium via Playwright, atomically.

    All network requests are blocked while printing. Pages are numbered in
    the footer, after the (escaped) ``footer`` text.

    Raises
    ------
    RiskmapError
        Playwright or Chromium is not available, or printing failed.

    Examples
    --------
    >>> html_to_pdf("out/drina_report.html", "out/drina_report.pdf")  # doctest: +SKIP
    """
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    exe = executable_path or os.environ.get("RISKMAP_CHROMIUM", "/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        from riskmap._extras import missing_message

        raise RiskmapError(f"{missing_message('playwright')}, or use --no-pdf") from e
    if not Path(exe).exists():
        raise RiskmapError(f"PDF output needs Chromium at {exe} (apt install chromium, or set "
                           "RISKMAP_CHROMIUM); use --no-pdf to skip the PDF")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            try:
                page = browser.new_page(java_script_enabled=False)  # the report has no scripts
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith(("file:", "data:")) else route.abort())
                page.goto(html_path.as_uri(), wait_until="load")
                foot = (f'<div style="font-size:7pt;color:#555;width:100%;text-align:center">'
                        f'{_html.escape(footer or "")} page <span class="pageNumber"></span> of '
                        f'<span class="totalPages"></span></div>')
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

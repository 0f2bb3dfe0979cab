"""PDF printing is optional: the browser is found where installed, and a plain install says what to add."""

from __future__ import annotations

import builtins
import os
import stat
import subprocess
import sys

import pytest

from riskmap import RiskmapError
from riskmap import report_pdf


def _fake_exe(path):
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_env_variable_wins(tmp_path, monkeypatch):
    exe = _fake_exe(tmp_path / "my-chrome")
    monkeypatch.setenv("RISKMAP_CHROMIUM", str(exe))
    assert report_pdf.find_browser() == str(exe)
    monkeypatch.setenv("RISKMAP_CHROMIUM", str(tmp_path / "missing"))
    assert report_pdf.find_browser() is None  # a wrong override is not silently replaced


@pytest.mark.parametrize("name", ["google-chrome", "msedge", "chromium-browser"])
def test_found_on_path_by_any_usual_name(name, tmp_path, monkeypatch):
    monkeypatch.delenv("RISKMAP_CHROMIUM", raising=False)
    exe = _fake_exe(tmp_path / name)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(report_pdf, "browser_install_paths", lambda: [])
    monkeypatch.setattr(report_pdf, "playwright_chromium", lambda: None)
    assert report_pdf.find_browser() == str(exe)


def test_windows_and_macos_install_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("RISKMAP_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    edge = tmp_path / "Microsoft" / "Edge" / "Application" / "msedge.exe"
    edge.parent.mkdir(parents=True)
    _fake_exe(edge)
    monkeypatch.setenv("PROGRAMFILES(X86)", str(tmp_path))
    monkeypatch.setattr(report_pdf, "playwright_chromium", lambda: None)
    assert report_pdf.find_browser() == str(edge)
    assert any("Google Chrome.app" in str(p) for p in report_pdf.browser_install_paths())


def test_no_browser_is_a_clear_error(tmp_path, monkeypatch):
    pytest.importorskip("playwright")
    monkeypatch.setenv("RISKMAP_CHROMIUM", str(tmp_path / "nope"))
    html = tmp_path / "r.html"
    html.write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(RiskmapError, match=r"RISKMAP_CHROMIUM=.*nope is not a file.*--no-pdf"):
        report_pdf.html_to_pdf(html, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_without_playwright_the_message_names_the_extra(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_playwright(name, *a, **k):
        if name.startswith("playwright"):
            raise ImportError("No module named 'playwright'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_playwright)
    html = tmp_path / "r.html"
    html.write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(RiskmapError, match=r"pip install 'riskmap\[pdf\]'.*--no-pdf"):
        report_pdf.html_to_pdf(html, tmp_path / "r.pdf")


def test_report_modules_do_not_import_playwright():
    code = ("import sys, riskmap.report, riskmap.pipeline, riskmap.cli; "
            "print('playwright' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.strip() == "False"

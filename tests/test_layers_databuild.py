"""The data build (``riskmap.databuild``) stays aside: no analysis or top module imports it.

Imports are read with :mod:`ast`, so lazy imports inside functions count too.
The one allowed place is the CLI's ``data`` command group (the commands that
run the build); the public lazy re-exports of ``riskmap/__init__.py`` go
through ``importlib`` by name and are listed there.
"""

from __future__ import annotations

import ast
from pathlib import Path

import riskmap

PKG = Path(riskmap.__file__).parent
#: helpers of the ``data`` command group (in the CLI) allowed to import riskmap.databuild
CLI_HELPERS = {"_source_folders"}


def _is_cli(rel: str) -> bool:
    """The CLI: ``cli.py`` or a module of a ``cli/`` package."""
    return rel == "cli.py" or rel.startswith("cli/")


def _data_commands(tree: ast.Module) -> set[str]:
    """Top-level functions decorated with ``@data.command(...)`` (the ``riskmap data`` group)."""
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)
            and any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                    and isinstance(d.func.value, ast.Name) and d.func.value.id == "data"
                    for d in n.decorator_list)}


def _databuild_imports(tree: ast.Module) -> list[tuple[str, int, str]]:
    """(enclosing top-level name, line, module) of every import of riskmap.databuild in ``tree``."""
    found = []
    for top in tree.body:
        owner = getattr(top, "name", "<module>")
        for node in ast.walk(top):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import: resolve against the package root
                    base = "riskmap." + base
                mods = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            for m in mods:
                if m == "riskmap.databuild" or m.startswith("riskmap.databuild."):
                    found.append((owner, node.lineno, m))
                    break
    return found


def _analysis_modules() -> list[Path]:
    """Every module of the package outside ``riskmap/databuild``."""
    return sorted(p for p in PKG.rglob("*.py") if "databuild" not in p.relative_to(PKG).parts)


def test_no_analysis_module_imports_databuild():
    bad = []
    for path in _analysis_modules():
        rel = path.relative_to(PKG).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        allowed = (_data_commands(tree) | CLI_HELPERS) if _is_cli(rel) else set()
        for owner, line, mod in _databuild_imports(tree):
            if owner not in allowed:
                bad.append(f"riskmap/{rel}:{line} ({owner}) imports {mod}")
    assert not bad, "analysis modules must not import riskmap.databuild:\n" + "\n".join(bad)


def test_checker_sees_lazy_and_relative_imports():
    src = ("import os\n"
           "def f():\n    from riskmap.databuild.sites import build\n"
           "class C:\n    def m(self):\n        import riskmap.databuild.natech\n"
           "from .databuild import hydrosheds\n"
           "from riskmap import databuild\n"
           "from riskmap.hydrography import load_basin\n")
    found = _databuild_imports(ast.parse(src))
    assert [(o, ln) for o, ln, _ in found] == [("f", 3), ("C", 6), ("<module>", 7), ("<module>", 8)]


def test_the_cli_data_commands_use_databuild():
    """The allowance is used (the checker would notice a broken CLI import path)."""
    cli = [p for p in _analysis_modules() if _is_cli(p.relative_to(PKG).as_posix())]
    owners = set()
    for p in cli:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        owners |= {o for o, _, _ in _databuild_imports(tree)}
        assert {o for o, _, _ in _databuild_imports(tree)} <= _data_commands(tree) | CLI_HELPERS
    assert {"build_reference_cmd", "build_sites_cmd", "build_natech_cmd", "import_hydrosheds_cmd"} <= owners


def test_analysis_modules_listed():
    names = {p.relative_to(PKG).as_posix() for p in _analysis_modules()}
    assert {"hazard.py", "exposure.py", "report.py", "questionnaire/merge.py", "cli/data_commands.py"} <= names
    assert not any(n.startswith("databuild/") for n in names)

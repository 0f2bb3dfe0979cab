"""Issue 14 item 7: tests use riskmap's public functions, not its private names.

A test that imports ``_helper`` breaks at the next refactor although the behaviour it checks did
not change. The tests assert through public functions and the CLI; this module fails when a test
uses a private riskmap name (one leading underscore) that is not on the list below:

- ``from riskmap.x import _name``;
- ``module._name`` on a riskmap module the test imported;
- ``monkeypatch.setattr("riskmap.x._name", ...)`` and ``monkeypatch.setattr(module, "_name", ...)``.

Private *modules* (``riskmap._errors``, ``riskmap._geo``, ``riskmap.cli._base`` ...) are the package's
layout, not private names: their public names may be used (``riskmap._i18n_catalog`` is also the
documented ``python -m riskmap._i18n_catalog check``). Names of the tests' own helpers
(``from test_spill import _table``) are not riskmap's.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

#: (test file, private name): why the test needs it. ON_PURPOSE entries check an internal invariant
#: that has no public face; their file says so in a ``# private on purpose: <why>`` comment.
ON_PURPOSE = {
    ("test_exposure_real.py", "_basin_index"): "the basin index's per-reach path table against the hydrography",
    ("test_index_cache.py", "_cache_secret"): "a planted cache file with this user's own tag",
    ("test_index_cache.py", "_mac"): "a planted cache file with this user's own tag",
    ("test_index_cache.py", "_read_index_cache"): "the cache file format: plain arrays, no pickle",
    ("test_index_cache.py", "_pack_arrays"): "the cache file format: object arrays refused",
    ("test_index_cache.py", "_build_index"): "the index <-> cache arrays round trip",
    ("test_index_cache.py", "_index_from_arrays"): "the index <-> cache arrays round trip",
    ("test_index_cache.py", "_index_to_arrays"): "the index <-> cache arrays round trip",
    ("test_column_lists.py", "_GEOD"): "one ellipsoid: the modules' own aliases are the shared object",
    ("test_column_lists.py", "_aeqd"): "one local projection: the modules' own helpers are local_aeqd",
}

#: Private names still used by tests, to rewrite against the public functions (then remove from here;
#: nothing may be added). Empty since stop 28.
PENDING: set[tuple[str, str]] = set()

_PRIVATE = re.compile(r"_[A-Za-z0-9]\w*")
_DOTTED = re.compile(r"riskmap(\.\w+)+")


def _is_module(dotted: str) -> bool:
    """Whether ``dotted`` names a module or package of riskmap."""
    try:
        return importlib.util.find_spec(dotted) is not None
    except (ImportError, ValueError):
        return False


def _private(module: str, name: str) -> bool:
    """``module.name`` is a private riskmap name (one leading underscore, not a module, not a dunder)."""
    return bool(_PRIVATE.fullmatch(name)) and not name.endswith("__") and not _is_module(f"{module}.{name}")


def _riskmap_modules(tree: ast.AST) -> dict[str, str]:
    """Local name -> riskmap module, for every ``import riskmap...`` and ``from riskmap... import module``."""
    mods: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "riskmap":
                    mods[a.asname or "riskmap"] = a.name if a.asname else "riskmap"
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "riskmap":
            for a in node.names:
                if _is_module(f"{node.module}.{a.name}"):
                    mods[a.asname or a.name] = f"{node.module}.{a.name}"
    return mods


def _dotted(node: ast.AST, mods: dict[str, str]) -> str | None:
    """The riskmap module an expression such as ``rp`` or ``riskmap.cli`` stands for, else None."""
    if isinstance(node, ast.Name):
        return mods.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, mods)
        if base is not None and _is_module(f"{base}.{node.attr}"):
            return f"{base}.{node.attr}"
    return None


def private_uses(source: str) -> list[tuple[int, str]]:
    """(line, name) of every private riskmap name the test source uses (see the module docstring)."""
    tree = ast.parse(source)
    mods = _riskmap_modules(tree)
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "riskmap":
            out |= {(node.lineno, a.name) for a in node.names if _private(node.module, a.name)}
        elif isinstance(node, ast.Attribute):
            base = _dotted(node.value, mods)
            if base is not None and _private(base, node.attr):
                out.add((node.lineno, node.attr))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setattr":
            args = node.args
            if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str) \
                    and _DOTTED.fullmatch(args[0].value):
                module, name = args[0].value.rsplit(".", 1)
                if _private(module, name):
                    out.add((node.lineno, name))
            elif len(args) > 1 and isinstance(args[1], ast.Constant) and isinstance(args[1].value, str):
                base = _dotted(args[0], mods)
                if base is not None and _private(base, args[1].value):
                    out.add((node.lineno, args[1].value))
    return sorted(out)


def _test_files() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def _uses() -> dict[tuple[str, str], list[int]]:
    found: dict[tuple[str, str], list[int]] = {}
    for path in _test_files():
        for line, name in private_uses(path.read_text(encoding="utf-8")):
            found.setdefault((str(path.relative_to(TESTS)), name), []).append(line)
    return found


def test_the_scan_finds_each_kind_of_private_use():
    src = ("import riskmap.cli._base as cli\nfrom riskmap import export as ex, _paths\n"
           "from riskmap.hazard import score, _helper\nfrom riskmap._errors import RiskmapError\n"
           "from test_spill import _table\nimport riskmap\n"
           "ex._list_text(1)\ncli._build_out(1)\ncli.main()\nriskmap.io._fast(1)\n"
           "def t(monkeypatch):\n    monkeypatch.setattr('riskmap.cli.output_commands._prepare', 1)\n"
           "    monkeypatch.setattr('riskmap.pipeline.prepare', 1)\n    monkeypatch.setattr(ex, '_X', 1)\n"
           "    monkeypatch.setattr(ex, 'Y', 1)\n    _table()\n")
    assert private_uses(src) == [(3, "_helper"), (7, "_list_text"), (8, "_build_out"), (10, "_fast"),
                                 (12, "_prepare"), (14, "_X")]


def test_no_new_private_name_in_tests():
    """A test uses riskmap's public functions; the few exceptions are listed above with their reason."""
    new = [f"{file}:{lines[0]} {name}" for (file, name), lines in sorted(_uses().items())
           if (file, name) not in ON_PURPOSE and (file, name) not in PENDING]
    assert new == [], ("test the public function (or the CLI) that uses the private helper, or make the "
                       "helper public: " + ", ".join(new))


def test_the_exceptions_are_still_needed_and_explained():
    """An exception no longer used is removed from the list; one kept on purpose says why in its file."""
    used = set(_uses())
    assert sorted(k for k in [*ON_PURPOSE, *PENDING] if k not in used) == []
    for file in {f for f, _name in ON_PURPOSE}:
        assert "# private on purpose: " in (TESTS / file).read_text(encoding="utf-8"), file


@pytest.mark.parametrize("name", ["test_hazard.py", "test_spill_modules.py", "test_output_safety.py"])
def test_rewritten_tests_stay_on_the_public_side(name):
    """Files of the first pass hold no private riskmap name at all (a sample, read by the same scan)."""
    assert private_uses((TESTS / name).read_text(encoding="utf-8")) == []

"""Parameter files: loading and checking every TOML table the analysis reads.

- :func:`load_params` -- the scoring parameters of :mod:`riskmap.hazard` and
  :mod:`riskmap.natech` (``riskmap/params/{wri,thi,natech,priority}.toml``,
  optionally overridden by a user file);
- :func:`load_discharge_table` -- the discharge / lake-volume table of
  :mod:`riskmap.discharge` and :mod:`riskmap.spill`
  (``riskmap/params/discharge.toml``).

Every problem (missing file, not TOML, not UTF-8, unknown key, wrong type,
non-finite or out-of-range number) is a :class:`RiskmapInputError` naming the
file, the key and the reason. This is a bottom-layer module: it imports only
``_errors`` and ``_paths``.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Any
from collections.abc import Mapping

import tomllib  # Python >= 3.11 (pyproject: requires-python)

from riskmap.i18n import N_
from riskmap._errors import RiskmapInputError
from riskmap._paths import PARAMS_DIR

__all__ = ["DEFAULT_LABEL", "DEFAULT_DISCHARGE_FILE", "load_params", "load_discharge_table"]

#: Label carried by results computed with the shipped defaults.
DEFAULT_LABEL = N_("riskmap defaults v1 (not official UNECE/ICPDR tables)")  # shown with riskmap.i18n._

#: Parameter tables where a user file may add new keys (all others are closed).
_OPEN_TABLES = {("thi", "toxicity"), ("thi", "toxicity_keywords"), ("priority", "category_hazard")}

#: Default bundled discharge/lake-volume table.
DEFAULT_DISCHARGE_FILE = PARAMS_DIR / "discharge.toml"
#: The files of the hazard index parameters (:func:`load_params`). The other files of ``params/`` have
#: their own loaders (discharge, climate, contingency, river-length factors) and are not scoring keys.
SCORING_PARAM_FILES: tuple[str, ...] = ("natech.toml", "priority.toml", "thi.toml", "wri.toml")


def _read_toml(path: Path, what: str = "parameter") -> dict:
    """Read one TOML file; every failure is a :class:`RiskmapInputError` naming the file."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise RiskmapInputError(f"{path}: {what} file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise RiskmapInputError(f"{path}: not valid TOML ({e})") from None
    except UnicodeDecodeError as e:
        raise RiskmapInputError(f"{path}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}); "
                                f"save the {what} file as UTF-8") from None
    except IsADirectoryError:
        raise RiskmapInputError(f"{path}: is a folder, not a {what} file") from None


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "true or false"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "text"
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return "a list"
    return type(v).__name__


def _merge(base: dict, user: dict, path: Path, where: tuple[str, ...] = ()) -> dict:
    """Deep-merge ``user`` over ``base``: tables merge key by key, anything else replaces."""
    out = copy.deepcopy(base)
    replace = bool(user.get("_replace", False))
    if replace:
        out = {}
    for k, v in user.items():
        if k == "_replace":
            continue
        key = (*where, k)
        dotted = ".".join(key)
        if k not in base and where not in _OPEN_TABLES and not replace:
            known = ", ".join(sorted(base)) or "(none)"
            raise RiskmapInputError(f"{path}: unknown parameter '{dotted}'; known keys here: {known}")
        if k not in base and base:  # a new key of an open table: same kind as the table's other values
            ref = next(iter(base.values()))
            if _kind(v) != _kind(ref):
                raise RiskmapInputError(f"{path}: parameter '{dotted}' must be {_kind(ref)}, got {_kind(v)} {v!r}")
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            out[k] = _merge(base[k], v, path, key)
            continue
        old = base.get(k)
        if isinstance(old, dict) and not isinstance(v, dict):
            raise RiskmapInputError(f"{path}: parameter '{dotted}' must be a table ([{dotted}]), got {_kind(v)} {v!r}")
        if isinstance(old, str) and not isinstance(v, str):
            raise RiskmapInputError(f"{path}: parameter '{dotted}' must be text, got {_kind(v)} {v!r}")
        if isinstance(old, list) and isinstance(v, list) and old and isinstance(old[0], dict):
            _check_rows(old[0], v, path, dotted)
        if isinstance(old, (int, float)) and not isinstance(old, bool):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise RiskmapInputError(f"{path}: parameter '{dotted}' must be a number, got {v!r}")
        if isinstance(old, bool) and not isinstance(v, bool):
            raise RiskmapInputError(f"{path}: parameter '{dotted}' must be true or false, got {v!r}")
        if isinstance(old, list) and not isinstance(v, list):
            raise RiskmapInputError(f"{path}: parameter '{dotted}' must be a list (array of tables)")
        out[k] = copy.deepcopy(v)
    return out


def load_params(path: str | Path | Mapping | None = None) -> dict:
    """Load the scoring parameters: shipped defaults, optionally overridden.

    The defaults are ``riskmap/params/{wri,thi,natech,priority}.toml``. A user
    file uses the same sections and keys (``[wri.weights]``, ``[thi.management]``,
    ``[[tri.first_border]]`` ...) and is merged over the defaults:

    - tables merge key by key (give only what you change);
    - values and arrays (e.g. the ``[[wri.bands]]`` list) replace the default whole;
    - a table containing ``_replace = true`` replaces the default table entirely;
    - unknown keys are refused (typo protection), except in the open tables
      ``thi.toxicity``, ``thi.toxicity_keywords`` and ``priority.category_hazard``;
    - a top-level ``label = "..."`` names the parameter set in every result
      (default: ``"user parameters <file> over riskmap defaults v1 ..."``).

    Parameters
    ----------
    path : str, Path, dict or None
        A TOML file, an already-loaded dict of overrides, or None for defaults.

    Returns
    -------
    dict
        Sections ``wri``, ``thi``, ``tri``, ``natech``, ``priority`` and ``label``.

    Raises
    ------
    RiskmapInputError
        If the file is missing, not TOML, or has an unknown key or a wrong type.

    Examples
    --------
    >>> p = load_params()
    >>> p["wri"]["weights"]["3"], p["label"]
    (100.0, 'riskmap defaults v1 (not official UNECE/ICPDR tables)')
    """
    params: dict[str, Any] = {}
    for name in SCORING_PARAM_FILES:
        params.update(_read_toml(Path(PARAMS_DIR) / name))
    params["label"] = DEFAULT_LABEL
    if path is None:
        return params
    if isinstance(path, Mapping):
        user, src = dict(path), Path("<params dict>")
    else:
        src = Path(path)
        user = _read_toml(src)
    label = user.pop("label", None)
    if label is not None and not isinstance(label, str):
        raise RiskmapInputError(f"{src}: parameter 'label' must be text, got {_kind(label)} {label!r}")
    merged = _merge(params, user, src)
    _check_values(merged, src)
    merged["label"] = str(label) if label else f"user parameters {src.name} over {DEFAULT_LABEL}"
    return merged


def _check_rows(template: dict, rows: list, path: Path, dotted: str) -> None:
    """An array of tables (``[[wri.bands]]``) must hold tables with the default rows' keys and kinds."""
    if not rows:
        raise RiskmapInputError(f"{path}: parameter '{dotted}' must have at least one [[{dotted}]] row")
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise RiskmapInputError(f"{path}: [[{dotted}]] row {n} must be a table, got {_kind(row)} {row!r}")
        missing = sorted(set(template) - set(row))
        unknown = sorted(set(row) - set(template))
        if missing or unknown:
            raise RiskmapInputError(f"{path}: [[{dotted}]] row {n}: "
                                    + (f"missing {missing}" if missing else f"unknown keys {unknown}")
                                    + f"; each row has exactly {sorted(template)}")
        for k, v in row.items():
            if _kind(v) != _kind(template[k]):
                raise RiskmapInputError(f"{path}: [[{dotted}]] row {n}: '{k}' must be {_kind(template[k])}, "
                                        f"got {_kind(v)} {v!r}")


#: (section path, key) -> (low, high) inclusive ranges beyond "a finite number >= 0".
_RANGES: dict[tuple[str, ...], tuple[float, float]] = {
    ("priority", "hazard_weight"): (0.0, 1.0),
    ("priority", "exposure_weight"): (0.0, 1.0),
}
#: Tables whose every number lies in 0..1 (the hazard/exposure score scales).
_UNIT_TABLES = {("priority", "category_hazard"), ("priority", "exposure")}
#: Step tables of Natech classes: ``value`` is a class 0..3.
_CLASS_TABLES = {("natech", "fault_km"), ("natech", "max_mw"), ("natech", "water_km"), ("natech", "flood_depth_m")}
#: Numbers that must be strictly positive (a zero divides or empties a buffer).
_POSITIVE = {("thi", "capacity_min_m3"), ("thi", "volume_from_notes", "tonnes_per_m3"), ("natech", "eq_radius_km"),
             ("natech", "buffers", "site_buffer_km"), ("natech", "buffers", "corridor_length_km"),
             ("natech", "buffers", "corridor_buffer_km")}


def _check_values(params: dict, path: Path) -> None:
    """Refuse numbers that would give NaN, infinite or off-scale scores (named by file, key and reason)."""
    def bad(key: str, why: str) -> RiskmapInputError:
        return RiskmapInputError(f"{path}: parameter '{key}' {why}")

    def walk(node: Any, where: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*where, str(k)))
            return
        if isinstance(node, list):
            for n, v in enumerate(node, 1):
                walk(v, (*where[:-1], f"{where[-1]}[{n}]") if where else (f"[{n}]",))
            return
        if isinstance(node, bool) or not isinstance(node, (int, float)):
            return
        key = ".".join(where)
        plain = tuple(w.split("[")[0] for w in where)
        v = float(node)
        if not math.isfinite(v):
            raise bad(key, f"must be a finite number, got {node!r}")
        if v < 0:
            raise bad(key, f"must not be negative, got {node!r}")
        lo_hi = _RANGES.get(plain)
        if lo_hi is None and (plain[:2] in _UNIT_TABLES or plain[:3] in {(*t, "first_border") for t in _UNIT_TABLES}) \
                and plain[-1] not in ("max_km", "max_downstream_countries"):
            lo_hi = (0.0, 1.0)
        if lo_hi is None and plain[:2] in _CLASS_TABLES and plain[-1] == "value":
            lo_hi = (0.0, 3.0)
        if lo_hi is not None and not lo_hi[0] <= v <= lo_hi[1]:
            raise bad(key, f"must be within {lo_hi[0]:g}..{lo_hi[1]:g}, got {node!r}")
        if plain in _POSITIVE and v <= 0:
            raise bad(key, f"must be greater than 0, got {node!r}")

    walk({k: v for k, v in params.items() if k != "label"}, ())
    try:
        _check_relations(params, bad)
    except (KeyError, TypeError) as e:
        raise RiskmapInputError(f"{path}: a required parameter is missing or malformed ({e}); "
                                "a table with _replace = true must give every key of the default") from None


def _check_relations(params: dict, bad: Any) -> None:
    pr = params["priority"]
    total = float(pr["hazard_weight"]) + float(pr["exposure_weight"])
    if not 0 < total <= 1 + 1e-9:
        raise bad("priority.hazard_weight", f"+ priority.exposure_weight must be within 0..1 (exclusive of 0) "
                  f"so that priority_score stays on its 0..100 scale, got {total:g}")
    norm = pr["normalise"]
    for ix in ("wri", "thi"):
        lo, hi = float(norm[f"{ix}_lo"]), float(norm[f"{ix}_hi"])
        if not lo < hi:
            raise bad(f"priority.normalise.{ix}_lo", f"must be below {ix}_hi (got lo={lo:g}, hi={hi:g}): "
                      "the normalisation (index - lo) / (hi - lo) needs lo < hi")
    for n, band in enumerate(params["wri"]["bands"], 1):
        if not float(band["min"]) < float(band["max"]):
            raise bad(f"wri.bands[{n}]", f"min must be below max (got {band['min']!r}..{band['max']!r})")
    if params["wri"]["quantity_unit"] not in ("kg", "t"):
        raise bad("wri.quantity_unit", f"must be \"kg\" or \"t\", got {params['wri']['quantity_unit']!r}")
    tox = params["thi"]["toxicity"]
    for word, k in params["thi"]["toxicity_keywords"].items():
        if not isinstance(k, str) or k not in tox:
            raise bad(f"thi.toxicity_keywords.{word}", f"points to unknown toxicity kind {k!r}; "
                      f"known: {', '.join(sorted(tox))}")


def _params(params) -> dict:
    if isinstance(params, dict) and {"wri", "thi", "tri", "natech", "priority", "label"} <= set(params):
        return params  # already a full parameter set from load_params
    return load_params(params)



def _positive(v: Any) -> bool:
    """True for a positive, finite number (not a bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def _check_texts(p: Path, row: dict, where: str, keys: tuple[str, ...]) -> None:
    """Text fields of a discharge-table row are text; ``aliases`` a list of names."""
    for key in keys:
        if key in row and not isinstance(row[key], str):
            raise RiskmapInputError(f"{p}: {where}: {key} must be text, got {row[key]!r}")
    al = row.get("aliases", [])
    if not isinstance(al, list) or not all(isinstance(a, str) for a in al):
        raise RiskmapInputError(f"{p}: {where}: aliases must be a list of names")


def _check_station(p: Path, i: int, s: dict) -> None:
    """One ``[[station]]`` block of a discharge table: required keys, types, ``at`` grammar."""
    for key in ("river", "at", "mean_m3s", "citation"):
        if key not in s:
            raise RiskmapInputError(f"{p}: [[station]] #{i} ({s.get('river', '?')}): missing {key!r}")
    _check_texts(p, s, f"[[station]] #{i}", ("river", "at", "citation", "basin", "url", "low_definition"))
    for key in ("mean_m3s", "low_m3s", "area_km2"):
        if key in s and not _positive(s[key]):
            raise RiskmapInputError(f"{p}: [[station]] #{i} ({s['river']}): {key} must be a positive, "
                                    f"finite number, got {s[key]!r}")
    if not re.fullmatch(r"mouth|source|confluence:.+|km_above_mouth:\d+(\.\d*)?", str(s["at"])):
        raise RiskmapInputError(f"{p}: [[station]] #{i} ({s['river']}): unknown at={s['at']!r}; "
                                "use mouth, source, confluence:<River> or km_above_mouth:<km>")


def _check_lake(p: Path, i: int, lk: dict) -> None:
    """One ``[[lake]]`` block of a discharge table: required keys, types, a positive volume."""
    for key in ("name", "volume_m3", "citation"):
        if key not in lk:
            raise RiskmapInputError(f"{p}: [[lake]] #{i} ({lk.get('name', '?')}): missing {key!r}")
    _check_texts(p, lk, f"[[lake]] #{i}", ("name", "citation", "basin", "url"))
    if not _positive(lk["volume_m3"]):
        raise RiskmapInputError(f"{p}: [[lake]] #{i} ({lk['name']}): volume_m3 must be a positive, "
                                f"finite number, got {lk['volume_m3']!r}")


def load_discharge_table(path: str | Path | None = None) -> dict[str, Any]:
    """Read a discharge/lake-volume parameter file (TOML, see ``riskmap/params/discharge.toml``).

    Parameters
    ----------
    path : path-like, optional
        The file; default the bundled ``riskmap/params/discharge.toml``.

    Returns
    -------
    dict
        ``{"meta": {...}, "station": [...], "lake": [...], "path": str}``.

    Examples
    --------
    >>> table = load_discharge_table()
    >>> any(s["river"] == "Drina" for s in table["station"])
    True
    """
    p = Path(path) if path is not None else DEFAULT_DISCHARGE_FILE
    data = _read_toml(p, "discharge")
    stations, lakes = data.get("station", []), data.get("lake", [])
    for what, rows in (("station", stations), ("lake", lakes)):
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise RiskmapInputError(f"{p}: '{what}' must be an array of tables ([[{what}]] blocks)")
    if not isinstance(data.get("meta", {}), dict):
        raise RiskmapInputError(f"{p}: 'meta' must be a table ([meta])")
    for i, s in enumerate(stations, 1):
        _check_station(p, i, s)
    for i, lk in enumerate(lakes, 1):
        _check_lake(p, i, lk)
    return {"meta": data.get("meta", {}), "station": stations, "lake": lakes, "path": str(p)}


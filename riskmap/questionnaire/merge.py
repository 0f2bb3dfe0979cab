"""Merging returned questionnaires into the inventory, with provenance, conflicts and new sites."""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from pathlib import Path
from typing import Any
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap.i18n import _
from riskmap.io import (
    table_to_csv_bytes,
    atomic_write_bytes,
    atomic_write_text,
    check_output_not_input,
    csv_text,
    read_sites,
    sha256_file,
    write_sites,
)
from riskmap.questionnaire.fields import SITES_CSV
from riskmap.questionnaire.inventory import (
    Inventory,
    _fixed_same,
    _fixed_value,
    _missing,
    _shown,
    with_invalid_rows,
)
from riskmap.questionnaire.returns import ReturnData, _col_name, _Issues, read_return
from riskmap.schema import ValidationIssue, ValidationReport, validate_sites

# --------------------------------------------------------------------------- merging


@dataclasses.dataclass
class MergeResult:
    """Outcome of :func:`merge_returns`.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        The merged inventory.
    provenance : pandas.DataFrame
        One row per value read: ``site_id``, ``field``, ``value``, ``previous``, ``action`` (``filled``,
        ``confirmed``, ``conflict: previous kept``, ``new site``, ``rejected``), ``source``,
        ``respondent_source``, ``file``, ``sheet``, ``row``, ``column``.
    conflicts : pandas.DataFrame
        The ``conflict`` rows of ``provenance``.
    report : riskmap.schema.ValidationReport
        Every problem of every file.
    new_ids : list of str
        ``site_id`` of the added sites.
    files : list of dict
        ``file``, ``sha256``, ``country``, ``basin`` of each return given, and ``duplicate_of`` (the
        file with the same content that was merged instead, or None).
    invalid : pandas.DataFrame
        The inventory rows that failed validation (as read, index = position in the file): kept
        unchanged in the merged ``sites.csv`` (:func:`write_merge`), nothing merged into them.
    positions : list of int, optional
        Position in the inventory file of each inventory row of ``sites`` (None: in order).
    """

    sites: gpd.GeoDataFrame
    provenance: pd.DataFrame
    conflicts: pd.DataFrame
    report: ValidationReport
    new_ids: list[str]
    files: list[dict[str, Any]]
    invalid: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    positions: list[int] | None = None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return str(a).strip().lower() == str(b).strip().lower()


def _label(country: str | None, date: str | None) -> str:
    return f"questionnaire {country or 'unknown country'} {date or 'undated'}"


def _new_site_id(country: str, name: str, taken: set[str]) -> str:
    from riskmap._text import slug  # noqa: PLC0415 - text helper only

    base = f"q-{country.lower()}-{slug(name, 40) or 'site'}"
    sid, k = base, 2
    while sid in taken:
        sid, k = f"{base}-{k}", k + 1
    taken.add(sid)
    return sid


def merge_returns(files: Iterable[str | Path], sites: gpd.GeoDataFrame | Inventory | None = None) -> MergeResult:
    """Merge returned questionnaires into an inventory, with provenance and conflicts.

    Files are merged in the order given: for a blank field, the first return
    that answers it fills it and a later, different answer is a conflict. A
    file with the same content (SHA-256) as one merged before (the same file
    given twice, or a copy) is reported and merged once. Edits of the fixed
    columns are reported, never applied.

    Parameters
    ----------
    files : paths
        Returned ``.xlsx`` workbooks or ``.csv`` files.
    sites : geopandas.GeoDataFrame or Inventory, optional
        The inventory (default: the bundled ``data/sites/sites.csv``). An
        :class:`Inventory` (:func:`read_inventory`) also carries the rows that
        failed validation: they are reported and kept in the result.

    Examples
    --------
    >>> res = merge_returns(["mne_returned.xlsx"])  # doctest: +SKIP
    >>> res.conflicts  # doctest: +SKIP
    """
    inv = sites if isinstance(sites, Inventory) else None
    state = _MergeState.start(read_sites(SITES_CSV) if sites is None else inv.sites if inv else sites)
    if inv is not None:
        _report_invalid_inventory(state, inv)
    seen: dict[str, str] = {}
    for f in files:
        digest = sha256_file(f) if Path(f).is_file() else ""
        if digest and digest in seen:
            _skip_duplicate(state, f, digest, seen[digest])
            continue
        seen[digest] = str(f)
        _merge_file(state, f, digest)
    res = state.result()
    if inv is not None:
        res.invalid, res.positions = inv.invalid, inv.positions
    return res


def _skip_duplicate(state: _MergeState, f: str | Path, digest: str, first: str) -> None:
    """Report a return whose content was merged already (same SHA-256) and record it as not merged."""
    same = Path(first).resolve() == Path(f).resolve()
    reason = (_("the same file is given twice; merged once") if same else
              _("same content (SHA-256 {sha}) as {first}: a duplicate, merged once").format(
                  sha=digest[:12], first=first))
    state.report.issues.append(ValidationIssue(str(f), None, None, reason, _("give each return once"), "warning"))
    state.file_info.append({"file": Path(f).name, "sha256": digest, "country": None, "basin": None,
                            "duplicate_of": Path(first).name})


def _report_invalid_inventory(state: _MergeState, inv: Inventory) -> None:
    """Report the inventory rows that failed validation: their errors and that they are kept, not merged into."""
    n = len(inv.invalid)
    if not n and not inv.n_unreadable:
        return
    state.report.issues.extend(i for i in inv.report.issues if i.severity == "error")
    fix = _("fix those rows (riskmap validate {file}) and merge again").format(file=inv.report.file)
    rows = n + len(inv.positions) + inv.n_unreadable
    if n:
        state.report.issues.append(ValidationIssue(inv.report.file, None, None, _(
            "{n} of {rows} inventory rows fail validation: kept unchanged in the merged sites.csv, no return value "
            "merged into them").format(n=n, rows=rows), fix, "warning"))
    if inv.n_unreadable:
        state.report.issues.append(ValidationIssue(inv.report.file, None, None, _(
            "{n} of {rows} inventory rows could not be read at all (see the errors above): they are not in the "
            "merged sites.csv").format(n=inv.n_unreadable, rows=rows), fix, "error"))
    if "site_id" in inv.invalid.columns:
        state.invalid_ids = {str(x).strip() for x in inv.invalid["site_id"] if not _missing(x)}


_NEW_SITE_MEASURES = ("tailings_volume_m3", "tailings_area_ha", "dam_height_m", "tailings_type", "dam_condition",
                      "reservoir_volume_m3", "capacity_mw", "capacity_t_yr")


@dataclasses.dataclass
class _MergeState:
    """The inventory being merged into and everything :func:`merge_returns` collects on the way."""

    out: gpd.GeoDataFrame
    pos: dict[str, int]
    report: ValidationReport
    taken: set[str]
    prov: list[dict] = dataclasses.field(default_factory=list)
    new_rows: list[dict] = dataclasses.field(default_factory=list)
    new_geoms: list[Any] = dataclasses.field(default_factory=list)
    file_info: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    invalid_ids: set[str] = dataclasses.field(default_factory=set)

    @classmethod
    def start(cls, base: gpd.GeoDataFrame) -> _MergeState:
        """A state over a copy of ``base`` with the provenance columns as object columns."""
        out = base.copy()
        for c in ("field_sources", "source_refs", "notes"):
            if c not in out.columns:
                out[c] = None
            out[c] = out[c].astype(object)
        return cls(out, {sid: i for i, sid in enumerate(out["site_id"])},
                   ValidationReport(file="questionnaire returns"), set(out["site_id"]))

    def set(self, i: int, column: str, value: Any) -> None:
        """Set the cell of row position ``i`` and ``column`` of the merged inventory."""
        self.out.iloc[i, self.out.columns.get_loc(column)] = value

    def result(self) -> MergeResult:
        """The merged inventory with the new sites appended, the provenance and the conflicts."""
        out = self.out
        if self.new_rows:
            add = gpd.GeoDataFrame(pd.DataFrame(self.new_rows), geometry=self.new_geoms, crs="EPSG:4326")
            out = gpd.GeoDataFrame(pd.concat([out, add], ignore_index=True), geometry=out.geometry.name,
                                   crs="EPSG:4326")
        cols = ["site_id", "field", "value", "previous", "action", "source", "respondent_source", "file", "sheet",
                "row", "column"]
        provenance = pd.DataFrame(self.prov, columns=cols)
        conflicts = provenance[provenance["action"].str.startswith("conflict")].reset_index(drop=True)
        self.report.n_rows = len(provenance)
        self.report.n_kept = int(provenance["action"].isin(["filled", "confirmed", "new site"]).sum())
        return MergeResult(out, provenance, conflicts, self.report, [r["site_id"] for r in self.new_rows],
                           self.file_info)


def _merge_file(state: _MergeState, f: str | Path, digest: str) -> None:
    """Merge one returned questionnaire (SHA-256 ``digest``) into ``state``."""
    ret = read_return(f)
    state.file_info.append({"file": Path(f).name, "sha256": digest, "country": ret.country,
                            "basin": ret.basin, "duplicate_of": None})
    state.report.issues.extend(ret.report.issues)
    rep = _Issues(state.report, str(f))
    _check_fixed(state, ret, f, rep)
    touched: dict[int, list[str]] = {}
    for v in ret.values.to_dict("records"):
        _merge_value(state, ret, f, rep, v, touched)
    out = state.out
    for i, fields in touched.items():
        note = f"{Path(f).name}: filled {', '.join(fields)}"
        cur = out["notes"].iat[i]
        state.set(i, "notes", "; ".join(filter(None, [cur if isinstance(cur, str) else "", note])))
    if ret.new_sites:
        _add_new_sites(state, ret, f, rep)


def _check_fixed(state: _MergeState, ret: ReturnData, f: str | Path, rep: _Issues) -> None:
    """Report every fixed (locked) cell of the return that differs from the inventory; nothing is applied.

    A changed ``site_id`` on a row without answers is a warning too (with answers it is an error, on merging).
    """
    answered = set(zip(ret.values["sheet"], ret.values["row"]))
    for c in ret.fixed:
        i = state.pos.get(c["site_id"])
        if i is None:
            if (c["sheet"], c["row"]) not in answered and c["site_id"] not in state.invalid_ids:
                answered.add((c["sheet"], c["row"]))  # once per row
                rep.add(c["sheet"], c["row"], "site_id", _("site_id {value} is not in the inventory; the row has no "
                                                           "answers").format(value=repr(c["site_id"])),
                        _("the id column is protected: restore the id from the blank questionnaire"), "warning")
            continue
        old = _fixed_value(state.out, i, c["key"])
        if _fixed_same(c["key"], old, c["value"]):
            continue
        shown_old, shown_new = _shown(old), _shown(c["value"])
        rep.add(c["sheet"], c["row"], c["column"],
                _("fixed column changed: {old} -> {new}; not applied (the inventory keeps {old})").format(
                    old=shown_old, new=shown_new),
                _("fixed columns are not merged: to correct the inventory, give the correct value and your "
                  "source in the comment column"), "warning")
        state.prov.append({"site_id": c["site_id"], "field": c["key"], "value": c["value"], "previous": old,
                           "action": "ignored: fixed column", "source": None, "respondent_source": None,
                           "file": Path(f).name, "sheet": c["sheet"], "row": c["row"], "column": c["column"]})


def _merge_value(state: _MergeState, ret: ReturnData, f: str | Path, rep: _Issues, v: dict[str, Any],
                 touched: dict[int, list[str]]) -> None:
    """Merge one (site, field) answer ``v``; ``touched`` collects the fields filled per row position."""
    sid = v["site_id"]
    base_row = {"site_id": sid, "field": v["field"], "value": v["value"], "source": None,
                "respondent_source": v["respondent_source"], "file": Path(f).name, "sheet": v["sheet"],
                "row": v["row"], "column": v["column"]}
    if sid not in state.pos:
        _reject_unknown_site(state, rep, v, base_row)
        return
    out, i = state.out, state.pos[sid]
    country = ret.country or out["country"].iat[i]
    if ret.country and out["country"].iat[i] != ret.country:
        rep.add(v["sheet"], v["row"], "site_id",
                _("site {value} is in {country}, not in {expected} (the questionnaire's country); merged "
                  "anyway").format(value=repr(sid), country=out["country"].iat[i], expected=ret.country),
                _("check the row"), "warning")
    if v["respondent_date"] is None:
        rep.add(v["sheet"], v["row"], "respondent_date",
                _("no date for this row's information: recorded as 'undated'"),
                _("give the date of the information (YYYY-MM-DD)"), "warning")
    src = _label(country, v["respondent_date"])
    base_row["source"] = src
    field = v["field"]
    prev = out[field].iat[i] if field in out.columns else None
    if field == "status" and prev == "unknown":
        prev = None
    if _missing(prev):
        _fill(state, i, field, v["value"], src + (f" (respondent: {v['respondent_source']})"
                                                   if v["respondent_source"] else ""))
        action = "filled"
        touched.setdefault(i, []).append(field)
    elif _same(prev, v["value"]):
        action = "confirmed"
    else:
        action = "conflict: previous kept"
    prev_out = prev.item() if isinstance(prev, np.generic) else prev
    state.prov.append({**base_row, "previous": None if _missing(prev_out) else prev_out, "action": action})
    ref = f"questionnaire-{country}:{Path(f).name}#{v['sheet']}!{v['row']}"
    refs = json.loads(out["source_refs"].iat[i]) if isinstance(out["source_refs"].iat[i], str) else []
    if ref not in refs:
        state.set(i, "source_refs", json.dumps(refs + [ref], ensure_ascii=False))


def _reject_unknown_site(state: _MergeState, rep: _Issues, v: dict[str, Any], base_row: dict[str, Any]) -> None:
    """Report an answer for a ``site_id`` that is not in the inventory (naming the closest id)."""
    sid = v["site_id"]
    if sid in state.invalid_ids:
        rep.add(v["sheet"], v["row"], "site_id",
                _("site {value} is in the inventory but its row fails validation; the row's values were not "
                  "merged").format(value=repr(sid)),
                _("fix the inventory row (riskmap validate), then merge this return again"))
        state.prov.append({**base_row, "previous": None, "action": "rejected: invalid inventory row"})
        return
    close = difflib.get_close_matches(sid, list(state.pos), n=1, cutoff=0.6)
    reason = (_("site_id {value} is not in the inventory (closest: {closest}); the row's values were "
                "not merged").format(value=repr(sid), closest=repr(close[0])) if close else
              _("site_id {value} is not in the inventory; the row's values were not merged").format(
                  value=repr(sid)))
    rep.add(v["sheet"], v["row"], "site_id", reason,
            _("the id column is protected: restore the id from the blank questionnaire, or enter the "
              "site on the New sites sheet"))
    state.prov.append({**base_row, "previous": None, "action": "rejected: unknown site_id"})


def _fill(state: _MergeState, i: int, field: str, value: Any, who: str) -> None:
    """Fill the blank ``field`` of row position ``i`` and record ``who`` answered it in ``field_sources``."""
    out = state.out
    state.set(i, field, value)
    fs = json.loads(out["field_sources"].iat[i]) if isinstance(out["field_sources"].iat[i], str) else {}
    fs[field] = who
    state.set(i, "field_sources", json.dumps(fs, ensure_ascii=False, sort_keys=True))


def _add_new_sites(state: _MergeState, ret: ReturnData, f: str | Path, rep: _Issues) -> None:
    """Validate the New sites rows with the schema validation and append the good ones."""
    rows = ret.new_sites
    from riskmap.io import _bundled_countries  # noqa: PLC0415 - country polygons for the new points

    df = pd.DataFrame([_new_site_record(ret, f, rep, r) for r in rows])
    valid, vrep = validate_sites(df, file=str(f), countries=_bundled_countries())
    bad_rows = _report_new_site_issues(vrep, rows, rep)
    kept = [r for r in rows if r["row"] not in bad_rows]
    for r in rows:
        if r["row"] in bad_rows:
            state.prov.append({"site_id": None, "field": "(new site)", "value": r.get("new_site_name"),
                               "previous": None, "action": "rejected: invalid new site",
                               "source": _label(ret.country, r.get("respondent_date")),
                               "respondent_source": r.get("respondent_source"), "file": Path(f).name,
                               "sheet": r["sheet"], "row": r["row"], "column": None})
    for k, (_idx, v) in enumerate(valid.iterrows()):
        r = kept[k]
        rec = _new_site_row(v.drop(labels=[valid.geometry.name]).to_dict(), ret, r, state.taken)
        if "basin" in state.out.columns:
            rec["basin"] = _basin_of(valid.geometry.iloc[k], ret.basin, rep, r)
        state.new_rows.append(rec)
        state.new_geoms.append(valid.geometry.iloc[k])
        state.prov.append({"site_id": rec["site_id"], "field": "(new site)", "value": rec["name"], "previous": None,
                           "action": "new site", "source": rec["source"],
                           "respondent_source": r.get("respondent_source"), "file": Path(f).name,
                           "sheet": r["sheet"], "row": r["row"], "column": None})


def _new_site_record(ret: ReturnData, f: str | Path, rep: _Issues, r: dict[str, Any]) -> dict[str, Any]:
    """The raw inventory record of New sites row ``r`` (validated afterwards)."""
    if not r.get("coord_precision") and "coord_precision" not in r["_failed"]:
        rep.add(r["sheet"], r["row"], _col_name(r["_letters"].get("coord_precision"), "coord_precision"),
                _("coordinate precision blank: 'estimated' assumed"),
                _("choose exact, approximate, town or estimated"), "warning")
    return {
        "site_id": f"pending-{r['row']}", "name": r.get("new_site_name"), "category": r.get("category"),
        "status": r.get("status"), "country": None, "coord_precision": r.get("coord_precision") or "estimated",
        "source": _label(ret.country, r.get("respondent_date")), "source_id": f"{Path(f).name}#{r['sheet']}!{r['row']}",
        "licence": "questionnaire return: terms of the responding authority", "lon": r.get("lon"),
        "lat": r.get("lat"), "substances": r.get("substances"),
        **{k: r.get(k) for k in _NEW_SITE_MEASURES},
        "notes": "; ".join(filter(None, [f"respondent source: {r.get('respondent_source')}"
                                         if r.get("respondent_source") else None, r.get("comment")])) or None,
    }


def _report_new_site_issues(vrep: ValidationReport, rows: list[dict[str, Any]], rep: _Issues) -> set[Any]:
    """Report the validation issues of the New sites rows at their cells; the rows with errors."""
    bad_rows = set()
    for iss in vrep.issues:
        r = rows[iss.row - 1] if iss.row else None
        col = iss.column
        if r is not None and col in r["_failed"]:
            bad_rows.add(r["row"])  # already reported when the cell was read
            continue
        if r is not None and col is not None and col in r.get("_letters", {}):
            col = _col_name(r["_letters"][col], col)
        rep.add(r["sheet"] if r else None, r["row"] if r else None, col, iss.reason, iss.fix, iss.severity)
        if iss.severity == "error" and r is not None:
            bad_rows.add(r["row"])
    return bad_rows


def _new_site_row(rec: dict[str, Any], ret: ReturnData, r: dict[str, Any], taken: set[str]) -> dict[str, Any]:
    """The inventory row of a validated new site: its new id, source references and field sources."""
    country = rec.get("country") or ret.country or "unknown"
    rec["site_id"] = _new_site_id(country, str(rec["name"]), taken)
    rec["source_refs"] = json.dumps([f"questionnaire-{country}:{rec['source_id']}"], ensure_ascii=False)
    rec["name_source"] = rec["source"]
    filled = [c for c in ("status", "substances", *_NEW_SITE_MEASURES)
              if not _missing(rec.get(c)) and not (c == "status" and rec.get(c) == "unknown")]
    who = rec["source"] + (f" (respondent: {r.get('respondent_source')})" if r.get("respondent_source") else "")
    rec["field_sources"] = json.dumps({c: who for c in filled}, ensure_ascii=False, sort_keys=True) \
        if filled else None
    return rec


def _basin_of(point: Any, expected: str | None, rep: _Issues, row: dict) -> str | None:
    """Basin of a new site from its location (outlines + divide buffer); warns when it is not ``expected``."""
    from riskmap.basin_assign import assign_basins, outline_regions  # noqa: PLC0415

    try:
        regions = outline_regions()
    except RiskmapInputError:
        return expected
    g = gpd.GeoDataFrame({"coord_precision": ["estimated"]}, geometry=[point], crs="EPSG:4326")
    found = assign_basins(g, regions)[0].iloc[0]
    if found != expected:
        if found and expected:
            reason = _("the new site lies in the {found} basin, not in the {expected} basin of this questionnaire; "
                       "recorded with basin {found}").format(found=found, expected=expected)
        elif found:
            reason = _("the new site lies in the {found} basin; recorded with basin {found}").format(found=found)
        elif expected:
            reason = _("the new site lies outside the three basins, not in the {expected} basin of this "
                       "questionnaire; recorded with basin {expected}").format(expected=expected)
        else:
            reason = _("the new site lies outside the three basins; recorded with basin None")
        rep.add(row["sheet"], row["row"], "lon/lat", reason, _("check the coordinates (WGS84 decimal degrees)"),
                "warning")
    return found or expected


def write_merge(result: MergeResult, out_dir: str | Path, inputs: Iterable[str | Path] = ()) -> list[Path]:
    """Write a merge: ``sites.csv``, ``provenance.csv``, ``conflicts.csv``, ``issues.csv``, ``returns.json``.

    Refuses to write over any of ``inputs`` (the returns and the inventory read), also
    through a symbolic or hard link (``os.path.samefile``). The inventory rows
    that failed validation (``result.invalid``) are written back unchanged at
    their place in ``sites.csv``.
    """
    out_dir = Path(out_dir)
    targets = [out_dir / n for n in ("sites.csv", "provenance.csv", "conflicts.csv", "issues.csv", "returns.json")]
    ins = [Path(p) for p in inputs]
    for t in targets:
        try:
            check_output_not_input(t, ins)
        except RiskmapInputError:
            raise RiskmapInputError(_("{path}: is an input of this merge; choose another output folder").format(
                path=t)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    if result.invalid.empty:
        write_sites(result.sites, targets[0])
    else:
        atomic_write_bytes(targets[0], table_to_csv_bytes(with_invalid_rows(
            result.sites, len(result.new_ids), result.invalid, result.positions)))

    atomic_write_text(targets[1], _csv_text(result.provenance))
    atomic_write_text(targets[2], _csv_text(result.conflicts))
    atomic_write_text(targets[3], _csv_text(result.report.to_frame()))
    atomic_write_text(targets[4], json.dumps({"returns": result.files, "new_sites": result.new_ids},
                                             indent=2, ensure_ascii=False) + "\n")
    return targets


def _csv_text(df: pd.DataFrame) -> str:
    return csv_text(df)


def return_files(returns_dir: str | Path) -> list[Path]:
    """The returns in a folder (``*.xlsx`` and ``*.csv``, sorted by name; other files are ignored)."""
    d = Path(returns_dir)
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in (".xlsx", ".csv")
                  and not p.name.startswith((".", "~$")))


def returns_step(returns_dir: str | Path) -> Any:
    """The ``after`` step of :func:`riskmap.databuild.sites.build.build_sites` that merges ``returns_dir``.

    The returns are inputs like any other source: the built ``sites.csv``
    includes them, ``returns_provenance.csv``, ``returns_conflicts.csv`` and
    ``returns_issues.csv`` are written beside it, and ``SOURCES.md`` lists each
    return with its SHA-256.
    """
    files = return_files(returns_dir)

    def after(sites: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, str], dict[str, Any]]:
        title = "Questionnaire returns"
        if not files:
            return sites, {}, {"title": title, "files": [],
                               "lines": [f"None: `{Path(returns_dir).name}/` holds no returned questionnaire "
                                         "(*.xlsx, *.csv). Put returns there and rebuild; see docs/questionnaire.md."]}
        res = merge_returns(files, sites)
        merged = res.sites.sort_values("site_id", kind="mergesort").reset_index(drop=True)
        try:
            ch = score_change(sites, res)
            change = {k: ch[k] for k in ("touched", "moved", "before_insufficient", "after_insufficient")}
        except Exception as e:  # noqa: BLE001 - scoring needs data/basins; the merge stands without it
            change = {"error": f"not scored: {type(e).__name__}: {e}"}
        acts = res.provenance["action"].value_counts()
        lines = [f"- `{f['file']}` ({f['country'] or 'country from the inventory'}, {f['basin'] or 'basin n/a'}): "
                 f"sha256 {f['sha256']}" + (f"; same content as `{f['duplicate_of']}`, not merged again"
                                            if f.get("duplicate_of") else "") for f in res.files]
        lines += ["", f"Values filled: {int(acts.get('filled', 0))}; confirmed: {int(acts.get('confirmed', 0))}; "
                  f"conflicts (previous value kept): {len(res.conflicts)}; new sites: {len(res.new_ids)}; "
                  f"problems reported: {len(res.report.errors)} errors, {len(res.report.warnings)} warnings "
                  "(`returns_issues.csv`).",
                  "Scores of the touched sites: " + (f"{change['moved']} of {change['touched']} moved from "
                                                     "'insufficient data' to a score" if "moved" in change
                                                     else change["error"]) + "."]
        out_files = {"returns_provenance.csv": _csv_text(res.provenance),
                     "returns_conflicts.csv": _csv_text(res.conflicts),
                     "returns_issues.csv": _csv_text(res.report.to_frame())}
        return merged, out_files, {"title": title, "files": res.files, "lines": lines, "score_change": change}

    return after


def score_change(before: gpd.GeoDataFrame, result: MergeResult) -> dict[str, Any]:
    """Assess and score the sites a merge touched, before and after; count the moves to a score.

    Returns ``touched``, ``before_insufficient``, ``after_insufficient``,
    ``moved`` (insufficient data before, a score after) and ``table`` (per
    site: ``site_id``, ``name``, ``before``, ``after``, ``hazard_score``).
    """
    from riskmap.pipeline import prepare  # noqa: PLC0415 - analysis, only when scoring

    ok = result.provenance["action"].isin(["filled", "new site"])
    ids = sorted(set(result.provenance.loc[ok, "site_id"].dropna()))
    after_sites = result.sites[result.sites["site_id"].isin(ids)]
    before_sites = before[before["site_id"].isin(ids)]
    a = prepare(after_sites).sites.set_index("site_id")
    b = prepare(before_sites).sites.set_index("site_id") if len(before_sites) else None
    rows = []
    for sid in ids:
        st_b = b.loc[sid, "score_status"] if b is not None and sid in b.index else "(new site)"
        rows.append({"site_id": sid, "name": a.loc[sid, "name"], "before": st_b, "after": a.loc[sid, "score_status"],
                     "hazard_score": a.loc[sid, "hazard_score"]})
    t = pd.DataFrame(rows, columns=["site_id", "name", "before", "after", "hazard_score"])
    ins = "insufficient data"
    return {"touched": len(t), "before_insufficient": int((t["before"] == ins).sum()),
            "after_insufficient": int((t["after"] == ins).sum()),
            "moved": int(((t["before"] == ins) & (t["after"] != ins)).sum()), "table": t}

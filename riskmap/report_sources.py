"""The report's sources: provenance files flattened into cited datasets with licence, attribution and checksums.

:func:`sources_context` lists every source of the site inventory (the
``source`` column) and every dataset a ``PROVENANCE.json`` names, for the
"Sources" chapter and the provenance record written beside the report.
Messages belong to the gettext domain ``report_text``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from riskmap.i18n import N_, _
from riskmap.report_values import _missing


def _source_entry(entry: Any, key: str | None = None, parent: dict | None = None) -> dict[str, Any] | None:
    """One PROVENANCE source entry as a flat dict (None when it names no dataset)."""
    if isinstance(entry, str):  # a bare dataset name or "dataset/file" path
        return {"name": entry.split("/")[0], "path": entry}
    if not isinstance(entry, dict):
        return None
    name = (entry.get("name") or entry.get("id") or entry.get("dataset") or entry.get("source")
            or (str(entry["path"]).split("/")[0] if entry.get("path") else None) or key)
    if not name:
        return None
    if parent:  # a file entry under a product that states licence and attribution
        entry = {**{k: parent.get(k) for k in ("licence", "license", "attribution", "citation", "url",
                                               "title", "release", "version") if parent.get(k)},
                 **entry}
    return {
        "name": str(name),
        "licence": entry.get("licence") or entry.get("license"),
        "attribution": entry.get("attribution") or entry.get("citation"),
        "url": entry.get("url") or entry.get("homepage"),
        "date": (entry.get("date") or entry.get("version") or entry.get("retrieved")
                 or entry.get("accessed") or entry.get("release")),
        "sha256": entry.get("sha256") or entry.get("checksum"),
        "path": entry.get("path"),
        "title": entry.get("title"),
        "files": [(str(f.get("path", "")), str(f["sha256"])) for f in entry.get("files") or []
                  if isinstance(f, dict) and f.get("sha256")],
    }


def _walk_sources(node: Any, out: list[dict[str, Any]], depth: int = 0) -> None:
    """Collect the source entries of a PROVENANCE tree into ``out`` (at most 4 levels deep)."""
    if depth > 4 or node is None:
        return
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("sources", "inputs"):
                items = v.items() if isinstance(v, dict) else ((None, e) for e in (v or []))
                bare = isinstance(v, list)
                for key, e in items:
                    n = _source_entry(e, key, node if bare else None)
                    if n:
                        out.append(n)
            elif isinstance(v, (dict, list)):
                _walk_sources(v, out, depth + 1)
    elif isinstance(node, list):
        for v in node:
            _walk_sources(v, out, depth + 1)


def provenance_sources(prov: dict | None) -> list[dict[str, Any]]:
    """Flatten a PROVENANCE.json into source entries (tolerant of its layout).

    The report's list of sources reads the provenance of the inventory, the hydrography and
    the Natech layers through this: one entry per dataset, its file checksums merged.

    Parameters
    ----------
    prov : dict or None
        A parsed PROVENANCE.json (None: no provenance).

    Returns
    -------
    list of dict
        One entry per dataset: ``name``, ``licence``, ``attribution``, ``url``, ``date``,
        ``title``, ``path`` and ``files`` ((path, sha256) pairs).

    Examples
    --------
    >>> e = provenance_sources({"sources": [
    ...     {"dataset": "GeoNames", "path": "geonames/cities500.txt", "sha256": "ab12", "licence": "CC BY 4.0"},
    ...     {"dataset": "GeoNames", "path": "geonames/admin1.txt", "sha256": "cd34"}]})
    >>> [(x["name"], x["licence"], x["files"]) for x in e]
    [('GeoNames', 'CC BY 4.0', [('geonames/cities500.txt', 'ab12'), ('geonames/admin1.txt', 'cd34')])]
    >>> provenance_sources(None)
    []
    """
    out: list[dict[str, Any]] = []

    _walk_sources(prov, out)
    # merge entries of the same dataset (one per file), keeping every file checksum
    merged: dict[str, dict[str, Any]] = {}
    for e in out:
        if e.get("sha256") and e.get("path"):
            e["files"] = [*e.get("files", []), (str(e["path"]), str(e["sha256"]))]
            e["sha256"] = None
        m = merged.get(e["name"])
        if m is None:
            merged[e["name"]] = e
            continue
        for k, v in e.items():
            if k == "files":
                m["files"] = [*m.get("files", []), *[f for f in v if f not in m.get("files", [])]]
            elif not m.get(k) and v:
                m[k] = v
    # licence tables listing several datasets at once ({"dataset": "a, b", "licence": ..., "attribution": ...})
    if isinstance(prov, dict):
        for lic in prov.get("licences") or prov.get("licenses") or []:
            if not isinstance(lic, dict):
                continue
            names = [x.strip() for x in str(lic.get("dataset") or lic.get("datasets") or "").split(",")]
            for nm in names:
                if nm in merged:
                    merged[nm]["licence"] = merged[nm].get("licence") or lic.get("licence") or lic.get("license")
                    merged[nm]["attribution"] = merged[nm].get("attribution") or lic.get("attribution")
    return list(merged.values())


#: What a source is used for, as the report's callers name it (translated when shown).
_USED_FOR = (N_("site inventory"), N_("basin hydrography"), N_("Natech screening"))


def sources_context(sites: pd.DataFrame, provs: list[tuple[str, dict | None]]) -> list[dict[str, Any]]:
    """One entry per source: every inventory source plus every provenance source.

    ``used_for`` is shown in the output language ("site inventory", "basin
    hydrography" and any other text the catalogue holds; else as given).

    Parameters
    ----------
    sites : pandas.DataFrame
        The sites (their ``source``, ``licence`` and ``last_verified`` columns).
    provs : list of (str, dict or None)
        What each provenance file is used for, and the parsed file.

    Returns
    -------
    list of dict
        Per source: ``name``, ``title``, ``licence``, ``attribution``, ``url``, ``date``,
        ``sha256``, ``files``, ``n_sites``, ``verified`` and ``used_for``.

    Examples
    --------
    >>> s = pd.DataFrame({"source": ["GEM", "GEM"], "licence": ["CC BY 4.0", "CC BY 4.0"]})
    >>> [(e["name"], e["n_sites"], e["used_for"]) for e in sources_context(s, [("site inventory", None)])]
    [('GEM', 2, 'site inventory')]
    """
    entries: dict[str, dict[str, Any]] = {}
    prov_entries: list[tuple[str, dict[str, Any]]] = []
    for used_for, p in provs:
        for e in provenance_sources(p):
            prov_entries.append((used_for, e))

    def find_prov(name: str) -> dict[str, Any] | None:
        for _used, e in prov_entries:
            if e["name"] == name or (e.get("path") and name in str(e["path"])):
                return e
        return None

    if "source" in sites.columns and len(sites):
        src = sites["source"].astype(object).where(sites["source"].notna(), "unknown").map(str)
        lic = sites["licence"] if "licence" in sites.columns else pd.Series(None, index=sites.index)
        lv = sites["last_verified"] if "last_verified" in sites.columns else pd.Series(None, index=sites.index)
        for name in sorted(src.unique()):
            m = (src == name).to_numpy()
            lics = list(dict.fromkeys(part.strip() for x in sorted({str(x) for x in lic[m] if not _missing(x)})
                                      for part in x.split(";") if part.strip()))
            dates = sorted(str(x) for x in lv[m] if not _missing(x))
            pe = find_prov(name) or {}
            entries[name] = {
                "name": name, "used_for": _("site inventory"), "n_sites": int(m.sum()),
                "licence": pe.get("licence") or ("; ".join(lics) if lics else _("not stated")),
                "attribution": pe.get("attribution"), "url": pe.get("url"),
                "date": pe.get("date"),
                "verified": (_("{first} to {last}").format(first=dates[0], last=dates[-1])
                             if dates and dates[0] != dates[-1]
                             else (dates[0] if dates else None)),
                "sha256": pe.get("sha256"), "title": pe.get("title"), "files": pe.get("files") or [],
            }
    for used_for, e in prov_entries:
        if e["name"] in entries:
            continue
        entries[e["name"]] = {"name": e["name"], "used_for": _(str(used_for)) if used_for else used_for,
                              "n_sites": None,
                              "licence": e.get("licence") or _("not stated"), "attribution": e.get("attribution"),
                              "url": e.get("url"), "date": e.get("date"), "verified": None,
                              "sha256": e.get("sha256"), "title": e.get("title"), "files": e.get("files") or []}
    return list(entries.values())

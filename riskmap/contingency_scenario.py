"""Which sites a contingency plan covers and their credible release scenario.

:func:`basin_sites` assesses and scores the inventory as the report sees it
(the one ranking), :func:`select_sites` picks ``top:N`` or explicit ids,
:func:`site_facts` says what the inventory knows and does not, and
:func:`release_scenario` derives the release from the per-category defaults.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap._errors import RiskmapDataWarning, RiskmapInputError
from riskmap.contingency_text import _fmt_value, _loc, mass_text, _missing, _value_label
from riskmap.i18n import N_, _

__all__ = ["basin_sites", "release_scenario", "select_sites", "site_facts"]

_KNOWN_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("category", N_("Category"), ""), ("status", N_("Status"), ""), ("country", N_("Country"), ""),
    ("substances", N_("Substances"), ""), ("tailings_volume_m3", N_("Tailings volume"), N_("m³")),
    ("tailings_area_ha", N_("Tailings area"), N_("ha")), ("dam_height_m", N_("Dam height"), N_("m")),
    ("tailings_type", N_("Tailings type"), ""), ("dam_condition", N_("Dam condition"), ""),
    ("reservoir_volume_m3", N_("Reservoir volume"), N_("m³")), ("capacity_mw", N_("Capacity"), N_("MW")),
    ("capacity_t_yr", N_("Capacity"), N_("t/yr")), ("coord_precision", N_("Coordinate precision"), ""),
)
_TMF_FIELDS = ("tailings_volume_m3", "tailings_area_ha", "dam_height_m", "substances", "dam_condition")
_GENERIC_FIELDS = ("substances", "status")


def basin_sites(raw: Any, basin_id: str, data_dir: str | Path | None = None) -> gpd.GeoDataFrame:
    """The inventory assessed and scored as the report and map see it: the one ranking of ``basin_id``.

    The sites are assessed against every basin of the data folder (as
    :func:`riskmap.report.prepare_inputs` does), so a site near a divide
    belongs to one basin and its ``priority_rank`` is the report's.

    Parameters
    ----------
    raw : GeoDataFrame, path or None
        Validated sites (:func:`riskmap.pipeline.read_step`), a file, or None for the bundled inventory.
    basin_id : str
        The plan's basin.
    data_dir : path, optional
        Alternative ``data/`` folder.
    """
    from riskmap.pipeline import basin_step, prepare
    from riskmap.report import assessment_basins

    prepared = prepare(raw, basins=assessment_basins(basin_id, data_dir), data_dir=data_dir)
    basin_step(prepared, basin_id)  # says how many sites of the file lie outside the basin
    return prepared.sites


def select_sites(sites: pd.DataFrame, basin_id: str, spec: str | Sequence[str] | None, top_n: int) -> pd.DataFrame:
    """The sites of a plan: ``top:N`` (best priority rank with a transboundary path) or explicit ids.

    Parameters
    ----------
    sites : DataFrame
        Assessed and scored sites (:func:`riskmap.pipeline.prepare`).
    basin_id : str
        Basin whose sites are eligible for ``top:N``.
    spec : str or list, optional
        ``"top:N"``, ``"id1,id2"`` or a list of ids; default ``top:<top_n>``.

    Raises
    ------
    RiskmapInputError
        An unknown id, a bad ``top:N``, or no transboundary site in the basin.
    """
    ids: list[str]
    if spec is None or (isinstance(spec, str) and spec.strip().lower().startswith("top")):
        n = top_n
        if isinstance(spec, str):
            m = re.fullmatch(r"\s*top:(\d+)\s*", spec.lower())
            if not m or int(m.group(1)) < 1:
                raise RiskmapInputError(f"--sites: {spec!r}: write top:N (N >= 1) or site ids separated by commas")
            n = int(m.group(1))
        sub = sites[(sites["basin"].astype(str) == basin_id)
                    & sites["transboundary_downstream"].astype("boolean").fillna(False).astype(bool)]
        if sub.empty:
            raise RiskmapInputError(f"basin {basin_id}: no site with a transboundary downstream path")
        rank = pd.to_numeric(sub.get("priority_rank"), errors="coerce").astype(float)
        order = sub.assign(_rank=rank.fillna(np.inf)).sort_values(["_rank", "site_id"], kind="mergesort")
        return order.drop(columns="_rank").head(n)
    ids = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if str(s).strip()]
    if not ids:
        raise RiskmapInputError("--sites: no site id given")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:  # one card per site: a repeated id would give the same card twice
        warnings.warn(_("--sites: {ids} given more than once; one card per site").format(ids=", ".join(repeated)),
                      RiskmapDataWarning, stacklevel=2)
        ids = list(dict.fromkeys(ids))
    known = set(sites["site_id"].astype(str))
    bad = [i for i in ids if i not in known]
    if bad:
        raise RiskmapInputError(f"--sites: site id(s) not in the inventory: {', '.join(bad)}")
    return sites.set_index(sites["site_id"].astype(str)).loc[ids].reset_index(drop=True)


def site_facts(site: Mapping[str, Any]) -> tuple[list[dict[str, str]], list[str]]:
    """What the inventory knows about a site and what it does not (labels only for the unknown)."""
    from riskmap.schema import TMF_CATEGORIES

    known, unknown = [], []
    relevant = set(_TMF_FIELDS if site.get("category") in TMF_CATEGORIES else _GENERIC_FIELDS)
    for key, label, unit in _KNOWN_FIELDS:
        v = site.get(key)
        if _missing(v) or (isinstance(v, str) and v.strip().lower() == "unknown"):
            if key in relevant:
                unknown.append(_(label))
            continue
        known.append({"label": _(label), "value": _fmt_value(_value_label(key, v), unit)})
    return known, unknown


def release_scenario(site: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The credible release scenario of a site from the per-category defaults.

    A tailings facility with a known volume releases ``release_fraction`` of it
    carrying ``dissolved_load_kg_m3`` (both stated with their source or as an
    assumption); any other site, or a volume that is unknown, uses the stated
    nominal mass. Nothing about the site is invented.

    Returns
    -------
    dict
        ``mass_kg``, ``duration_h``, ``basis`` (sentence), ``assumptions`` (list), ``volume_known``.

    Examples
    --------
    >>> from riskmap.contingency_params import load_contingency_params
    >>> release_scenario({"category": "mine"}, load_contingency_params())["mass_kg"]
    10000.0
    """
    meta, tail = params["meta"], params["tailings"]
    vol = pd.to_numeric(pd.Series([site.get("tailings_volume_m3")]), errors="coerce").iloc[0]
    nominal = float(meta["nominal_mass_t"]) * 1000.0
    if site.get("category") in tail["categories"] and pd.notna(vol) and vol > 0 and tail["dissolved_load_kg_m3"] > 0:
        released = float(vol) * float(tail["release_fraction"])
        mass = released * float(tail["dissolved_load_kg_m3"])
        notes = [_("released tailings: {fraction} x {volume} m³ = {released} m³ ({source})").format(
                     fraction=_loc(f"{tail['release_fraction']:g}"), volume=_loc(f"{float(vol):,.6g}"),
                     released=_loc(f"{released:,.6g}"), source=_(tail["release_fraction_source"])),
                 _("dissolved load {load} kg/m³ ({source})").format(
                     load=_loc(f"{tail['dissolved_load_kg_m3']:g}"), source=_(tail["dissolved_load_source"]))]
        if mass > tail["max_mass_kg"]:
            notes.append(_("capped at max_mass_kg = {max} kg").format(max=_loc(f"{tail['max_mass_kg']:g}")))
            mass = float(tail["max_mass_kg"])
        basis = _("{mass} of dissolved contaminant from a release of {released} m³ of tailings").format(
            mass=mass_text(mass), released=_loc(f"{released:,.6g}"))
        return {"mass_kg": mass, "duration_h": float(meta["duration_h"]), "basis": basis, "assumptions": notes,
                "volume_known": True}
    stored = _("stored quantity unknown")
    what = _("tailings volume unknown") if site.get("category") in tail["categories"] else stored
    basis = _(str(meta["nominal_basis"])).replace("{mass}", mass_text(nominal))
    if what != stored:
        basis = basis.replace(stored, what)
    return {"mass_kg": nominal, "duration_h": float(meta["duration_h"]), "basis": basis,
            "assumptions": [], "volume_known": False}

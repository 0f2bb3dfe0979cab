"""Joint contingency planning: scenario cards, notification timelines and the basin annex.

``riskmap contingency BASIN`` and :func:`build_contingency` turn what riskmap
knows about a site (the inventory record, its downstream path, the spill
model's arrival times) into the documents a joint contingency plan is made of:

- a **scenario card** per selected site: what the site holds (known / unknown),
  a credible release scenario from the documented per-category defaults of
  ``riskmap/params/contingency.toml`` (stated assumptions the user changes with
  ``--params``), a small route map and the timeline of every checkpoint of
  :func:`riskmap.spill.simulate_spill` (leading edge, peak, concentration
  central and range, country and town affected);
- a **notification timeline** per downstream country (time available between
  the release and the arrival at its border, central and fast case, ordered by
  urgency, with the country of origin and the upstream neighbour that notify
  it) and the contact points the user supplies (``--contacts``; never invented);
- the **basin annex** (HTML and PDF): warning checkpoints, the cards, the
  notification matrix (origin x notified country, minimum warning time), the
  data gaps that limit the plan and the SOP checklist structure.

Only the public spill API is used (``locate_release``, ``simulate_spill``,
``SpillResult.checkpoints`` columns of ``riskmap.spill.CHECKPOINT_COLUMNS``;
optional range columns ``peak_mg_l_low``, ``leading_edge_h_low`` ... and
``population`` are shown when the spill model provides them).
"""

from __future__ import annotations

import copy
import csv
import io as _io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap._paths import PARAMS_DIR
from riskmap.i18n import N_, _, country_label, current_lang, pgettext, use_lang

__all__ = [
    "CONTACTS_TEMPLATE",
    "CONTACT_COLUMNS",
    "DEFAULT_CONTINGENCY_FILE",
    "PARAM_TEXTS",
    "SOP_STEPS",
    "ContingencyPlan",
    "ScenarioCard",
    "build_contingency",
    "checkpoint_label",
    "climate_section_html",
    "country_label",
    "date_time_text",
    "kind_label",
    "load_contingency_params",
    "notification_matrix",
    "notification_table",
    "plan_html",
    "read_contacts",
    "release_scenario",
    "scenario_card",
    "select_sites",
    "sop_context",
]

#: Default release-scenario parameters.
DEFAULT_CONTINGENCY_FILE = PARAMS_DIR / "contingency.toml"
#: The shipped, empty contacts template (header only: no invented contacts).
CONTACTS_TEMPLATE = PARAMS_DIR / "contacts_template.csv"
#: Columns of a contacts file.
CONTACT_COLUMNS = ("country", "role", "organisation", "contact")
#: The harmonised SOP steps of the checklist structure (title, what the riparians complete).
#: (English as written, marked for the catalogue: show them with ``riskmap.i18n._``.)
SOP_STEPS: tuple[tuple[str, str], ...] = (
    (N_("Alert"), N_("who raises the alarm at the site, by which channel, within which time")),
    (N_("Verification"),
     N_("who confirms the release (site visit, first samples) and how the first report is made")),
    (N_("Notification"),
     N_("who notifies which downstream country, basin body and the UNECE IAN point of contact")),
    (N_("Response"), N_("measures at intakes, reservoirs and the site; who decides on closures and releases")),
    (N_("Sampling"), N_("where and how often each country samples; laboratories; sharing of results")),
    (N_("All-clear"), N_("criteria (concentration below the standard at the checkpoints) and who declares it")),
)
TO_BE_SUPPLIED = N_("to be supplied")
UNKNOWN = "unknown"

_KNOWN_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("category", N_("Category"), ""), ("status", N_("Status"), ""), ("country", N_("Country"), ""),
    ("substances", N_("Substances"), ""), ("tailings_volume_m3", N_("Tailings volume"), N_("m³")),
    ("tailings_area_ha", N_("Tailings area"), N_("ha")), ("dam_height_m", N_("Dam height"), N_("m")),
    ("tailings_type", N_("Tailings type"), ""), ("dam_condition", N_("Dam condition"), ""),
    ("reservoir_volume_m3", N_("Reservoir volume"), N_("m³")), ("capacity_mw", N_("Capacity"), N_("MW")),
    ("capacity_t_yr", N_("Capacity"), N_("t/yr")), ("coord_precision", N_("Coordinate precision"), ""),
)
#: The texts of the shipped ``contingency.toml`` (marked so that the defaults read in the output
#: language; a text the user changes with ``--params`` is shown as given).
PARAM_TEXTS: tuple[str, ...] = (
    N_("riskmap contingency defaults v1 (planning assumptions, not official UNECE figures)"),
    N_("stored quantity unknown: nominal release of {mass} of a dissolved, conservative substance "
       "(riskmap planning assumption; change nominal_mass_t)"),
    N_("riskmap planning assumption: one third of the stored volume. Rico, Benito and Diez-Herrero (2008), "
       "Floods from tailings dam failures, Journal of Hazardous Materials 154, 79-87, show that only part of "
       "the stored tailings is released and fit outflow against stored volume (r2 = 0.86); use their relation "
       "or a site study instead"),
    N_("riskmap planning assumption, not from a source: 1 g of dissolved conservative contaminant per m3 of "
       "released tailings; replace with pore-water analyses of the site"),
)
_TMF_FIELDS = ("tailings_volume_m3", "tailings_area_ha", "dam_height_m", "substances", "dam_condition")
_GENERIC_FIELDS = ("substances", "status")


# ------------------------------------------------------------------ parameters and contacts


def _check_number(value: Any, path: Path, key: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise RiskmapInputError(f"{path}: {key}: expected a number, got {value!r}")
    if not lo <= float(value) <= hi:
        raise RiskmapInputError(f"{path}: {key}: {value!r} is outside {lo:g}..{hi:g}")
    return float(value)


def load_contingency_params(path: str | Path | Mapping | None = None) -> dict[str, Any]:
    """The release-scenario parameters: the shipped defaults, overridden by a user TOML file or dict.

    Parameters
    ----------
    path : path or mapping, optional
        A TOML file with any of the keys of ``riskmap/params/contingency.toml``.

    Returns
    -------
    dict
        ``meta``, ``tailings`` and ``exercise`` tables, checked.

    Raises
    ------
    RiskmapInputError
        Unreadable file, unknown key, wrong type or out-of-range number (naming file and key).

    Examples
    --------
    >>> load_contingency_params()["meta"]["nominal_mass_t"]
    10.0
    """
    from riskmap.params import _read_toml

    base = _read_toml(DEFAULT_CONTINGENCY_FILE, "contingency parameter")
    if path is None:
        user, where = {}, DEFAULT_CONTINGENCY_FILE
    elif isinstance(path, Mapping):
        user, where = dict(path), Path("<params>")
    else:
        where = Path(path)
        user = _read_toml(where, "contingency parameter")
    out = copy.deepcopy(base)
    for table, values in user.items():
        if table not in base or not isinstance(values, Mapping):
            raise RiskmapInputError(f"{where}: unknown table [{table}]; known: {', '.join(sorted(base))}")
        for key, v in values.items():
            if key not in base[table]:
                raise RiskmapInputError(f"{where}: [{table}] unknown key {key!r}; known: {', '.join(base[table])}")
            if type(v) is not type(base[table][key]) and not (isinstance(base[table][key], float)
                                                               and isinstance(v, int) and not isinstance(v, bool)):
                raise RiskmapInputError(f"{where}: [{table}] {key}: expected "
                                        f"{type(base[table][key]).__name__}, got {v!r}")
            out[table][key] = float(v) if isinstance(base[table][key], float) else v
    m, t = out["meta"], out["tailings"]
    _check_number(m["nominal_mass_t"], where, "meta.nominal_mass_t", 1e-6, 1e5)
    _check_number(m["duration_h"], where, "meta.duration_h", 0, 720)
    _check_number(m["threshold_mg_l"], where, "meta.threshold_mg_l", 1e-9, 1e6)
    _check_number(m["top_n"], where, "meta.top_n", 1, 100)
    _check_number(t["release_fraction"], where, "tailings.release_fraction", 1e-9, 1)
    _check_number(t["dissolved_load_kg_m3"], where, "tailings.dissolved_load_kg_m3", 0, 1e3)
    _check_number(t["max_mass_kg"], where, "tailings.max_mass_kg", 1e-3, 1e8)
    if m["model"] not in ("jobson", "jobson-max", "ade"):
        raise RiskmapInputError(f"{where}: meta.model: {m['model']!r} is not jobson, jobson-max or ade")
    e = out["exercise"]
    _check_number(e["first_report_h"], where, "exercise.first_report_h", 0, 720)
    _check_number(e["verification_h"], where, "exercise.verification_h", 0, 720)
    if m["discharge"] not in ("mean", "low"):
        raise RiskmapInputError(f"{where}: meta.discharge: {m['discharge']!r} is not mean or low")
    return out


def read_contacts(path: str | Path | None) -> pd.DataFrame:
    """Read a contacts file (CSV: ``country, role, organisation, contact``); ``None`` gives an empty table.

    ``country`` is an ISO3 code (``KGZ``) as used in the basin data. Text is kept as
    data (never interpreted); the shipped template
    (``riskmap/params/contacts_template.csv``) holds the header only.

    Raises
    ------
    RiskmapInputError
        Missing file or column, an empty or non-ISO3 country, naming file, row and column.

    Examples
    --------
    >>> read_contacts(None).columns.tolist()
    ['country', 'role', 'organisation', 'contact']
    """
    if path is None:
        return pd.DataFrame(columns=list(CONTACT_COLUMNS))
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RiskmapInputError(f"{p}: contacts file not found") from None
    except UnicodeDecodeError:
        raise RiskmapInputError(f"{p}: not UTF-8 text; save the contacts file as UTF-8 CSV") from None
    except IsADirectoryError:
        raise RiskmapInputError(f"{p}: is a folder, not a contacts file") from None
    rows = list(csv.reader(_io.StringIO(text)))
    if not rows:
        raise RiskmapInputError(f"{p}: empty file; expected the header {','.join(CONTACT_COLUMNS)}")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in CONTACT_COLUMNS if c not in header]
    if missing:
        raise RiskmapInputError(f"{p}: row 1: missing column(s) {', '.join(missing)}; "
                                f"expected {','.join(CONTACT_COLUMNS)}")
    out = []
    for i, r in enumerate(rows[1:], start=2):
        if not any(x.strip() for x in r):
            continue
        rec = {c: (r[header.index(c)].strip() if header.index(c) < len(r) else "") for c in CONTACT_COLUMNS}
        if not re.fullmatch(r"[A-Za-z]{3}", rec["country"]):
            raise RiskmapInputError(f"{p}: row {i}, column country: {rec['country']!r} is not an ISO3 code "
                                    "(e.g. KGZ, UZB, BIH)")
        rec["country"] = rec["country"].upper()
        if not (rec["organisation"] or rec["contact"]):
            raise RiskmapInputError(f"{p}: row {i}: neither organisation nor contact given")
        out.append(rec)
    return pd.DataFrame(out, columns=list(CONTACT_COLUMNS))


# ------------------------------------------------------------------ site selection and release scenario


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == "" or v.strip().lower() in ("unknown", "nan", "none")
    if isinstance(v, (list, tuple, dict)):
        return len(v) == 0
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _loc(text: str) -> str:
    """A number written by Python's format (``1,234.5``, ``0.012``) with the current language's separators.

    The numbers are rounded by Python's format in every language, so English is
    unchanged and Russian shows the same digits (``1 234,5``, no-break space).

    Examples
    --------
    >>> with use_lang("ru"):
    ...     _loc("1,234.5") == "1\u00a0234,5"
    True
    """
    if current_lang() == "en":
        return text
    return text.replace(",", "\u00a0").replace(".", ",")


def _unknown() -> str:
    from riskmap.i18n import UNKNOWN as _UNKNOWN_TEXT

    return _(_UNKNOWN_TEXT)


def _code_or_label(code: Any) -> str:
    """ISO3 codes as written in English (as before), country names in other languages."""
    return str(code) if current_lang() == "en" else " / ".join(country_label(c) for c in _parts(code))


def kind_label(kind: Any) -> str:
    """The display name of a checkpoint kind (``border``, ``town``, ...); English: the kind itself."""
    labels = {"border": pgettext("checkpoint kind", "border"), "town": pgettext("checkpoint kind", "town"),
              "reservoir": pgettext("checkpoint kind", "reservoir"), "lake": pgettext("checkpoint kind", "lake"),
              "outlet": pgettext("checkpoint kind", "outlet")}
    return labels.get(str(kind), str(kind))


def checkpoint_label(name: Any, kind: Any = None, country: Any = None) -> str:
    """A spill checkpoint's name in the current language: :func:`riskmap.spill.checkpoint_label`.

    Examples
    --------
    >>> with use_lang("ru"):
    ...     checkpoint_label("border KGZ -> UZB", "border")
    'граница Кыргызстан → Узбекистан'
    """
    from riskmap.spill import checkpoint_label as _label

    return _label(name, kind, country)


def _value_label(key: str, v: Any) -> str:
    """Category, status and coordinate precision codes: as written in English, their labels otherwise."""
    if current_lang() == "en" or not isinstance(v, str):
        return v
    from riskmap.map_text import CATEGORY_LABELS, PRECISION_LABELS, STATUS_LABELS

    table = {"category": CATEGORY_LABELS, "status": STATUS_LABELS, "coord_precision": PRECISION_LABELS}.get(key)
    if key == "country":
        return country_label(v)
    if table is None:
        return v
    if v.strip().lower() == "unknown":
        return _unknown()
    return _(table[v]) if v in table else v


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
    from riskmap.pipeline import prepare
    from riskmap.report import assessment_basins

    return prepare(raw, basins=assessment_basins(basin_id, data_dir), data_dir=data_dir).sites


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
    known = set(sites["site_id"].astype(str))
    bad = [i for i in ids if i not in known]
    if bad:
        raise RiskmapInputError(f"--sites: site id(s) not in the inventory: {', '.join(bad)}")
    return sites.set_index(sites["site_id"].astype(str)).loc[ids].reset_index(drop=True)


def _fmt_value(v: Any, unit: str) -> str:
    unit = _(unit) if unit else ""
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool):
        return f"{_loc(f'{float(v):,.6g}')} {unit}".strip()
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return f"{v} {unit}".strip()


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
            mass=_mass_text(mass), released=_loc(f"{released:,.6g}"))
        return {"mass_kg": mass, "duration_h": float(meta["duration_h"]), "basis": basis, "assumptions": notes,
                "volume_known": True}
    stored = _("stored quantity unknown")
    what = _("tailings volume unknown") if site.get("category") in tail["categories"] else stored
    basis = _(str(meta["nominal_basis"])).replace("{mass}", _mass_text(nominal))
    if what != stored:
        basis = basis.replace(stored, what)
    return {"mass_kg": nominal, "duration_h": float(meta["duration_h"]), "basis": basis,
            "assumptions": [], "volume_known": False}


def _mass_text(kg: float) -> str:
    if kg >= 1000:
        return _("{value} t").format(value=_loc(f"{kg / 1000:,.4g}"))
    return _("{value} kg").format(value=_loc(f"{kg:,.4g}"))


# ------------------------------------------------------------------ cards


@dataclass
class ScenarioCard:
    """One site's scenario card: the site, the release, the spill result and its timeline.

    Attributes
    ----------
    site : dict
        ``site_id``, ``name``, ``category``, ``country``, ``basin``, ``priority_rank``.
    known, unknown : list
        Inventory facts known (label, value) and the labels of those unknown.
    scenario : dict
        :func:`release_scenario`.
    result : riskmap.spill.SpillResult
        The spill run.
    timeline : pandas.DataFrame
        One row per checkpoint (see :func:`timeline_table`).
    notifications : pandas.DataFrame
        :func:`notification_table`.
    route_png : str
        ``data:`` URI of the route map ("" when not drawn).
    """

    site: dict[str, Any]
    known: list[dict[str, str]]
    unknown: list[str]
    scenario: dict[str, Any]
    result: Any
    timeline: pd.DataFrame
    notifications: pd.DataFrame
    route_png: str = ""
    gaps: list[str] = field(default_factory=list)


def _col(df: pd.DataFrame, name: str, fallback: str | None = None) -> pd.Series:
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce")
    if fallback is not None and fallback in df.columns:
        return pd.to_numeric(df[fallback], errors="coerce")
    return pd.Series(np.nan, index=df.index)


def timeline_table(checkpoints: pd.DataFrame, towns: pd.DataFrame | None = None) -> pd.DataFrame:
    """The card's timeline from a spill checkpoint table (public columns; range columns when present).

    Columns: ``checkpoint``, ``kind``, ``country``, ``river_km``, ``leading_edge_h``,
    ``leading_edge_h_fast``, ``peak_time_h``, ``peak_mg_l``, ``peak_mg_l_low``,
    ``peak_mg_l_high``, ``above_threshold_h``, ``population`` (towns; NaN when unknown), ``note``.
    """
    cp = checkpoints.reset_index(drop=True)
    out = pd.DataFrame({
        "checkpoint": cp["checkpoint"].astype(str), "kind": cp["kind"].astype(str),
        "country": cp["country"].astype(str), "river_km": _col(cp, "river_km"),
        "leading_edge_h": _col(cp, "leading_edge_h"),
        "leading_edge_h_fast": _col(cp, "leading_edge_h_fast"),
        "peak_time_h": _col(cp, "peak_time_h"), "peak_mg_l": _col(cp, "peak_mg_l"),
        "peak_mg_l_low": _col(cp, "peak_mg_l_low", "peak_mg_l"),
        "peak_mg_l_high": _col(cp, "peak_mg_l_high", "peak_mg_l"),
        "above_threshold_h": _col(cp, "above_threshold_h"),
    })
    pop = _col(cp, "population")
    if towns is not None and len(towns) and "population" in towns.columns and pop.isna().all():
        lookup = towns.drop_duplicates("name").set_index(towns.drop_duplicates("name")["name"].astype(str))
        tp = pd.to_numeric(lookup["population"], errors="coerce")
        pop = out["checkpoint"].map(tp).where(out["kind"].eq("town"))
    out["population"] = pd.to_numeric(pop, errors="coerce")
    out["note"] = cp["note"].fillna("").astype(str) if "note" in cp.columns else ""
    return out


def _parts(country: Any) -> list[str]:
    return [p for p in str(country).split("|") if p and p.lower() not in ("nan", "none", "")]


def notification_table(timeline: pd.DataFrame, origin: str, river_entry: str | None = None) -> pd.DataFrame:
    """Who must be notified, by whom, and how much time there is (one row per downstream country).

    Walks the timeline in flow order; a country is notified at the first
    checkpoint whose country (or border pair) includes it. When the modelled
    river entry lies in another country than the site (``river_entry``), that
    country is affected before the first checkpoint: its time is unknown (NaN)
    and it is listed first (most urgent).

    Returns
    -------
    pandas.DataFrame
        ``notified``, ``origin`` (country of the accident, notifies under the
        UNECE IAN system), ``upstream`` (neighbour at the crossing), ``checkpoint``,
        ``river_km``, ``warning_h`` (central leading edge), ``warning_h_fast``, ordered
        by urgency (fast case, then central).
    """
    rows: list[dict[str, Any]] = []
    seen = set(_parts(origin))
    prev = _parts(origin)
    if river_entry:
        new = [c for c in _parts(river_entry) if c not in seen]
        for c in new:
            rows.append({"notified": c, "origin": origin, "upstream": "|".join(prev) or origin,
                         "checkpoint": f"river entry ({river_entry}): before the first checkpoint",
                         "river_km": np.nan, "warning_h": np.nan, "warning_h_fast": np.nan})
        seen |= set(new)
        prev = _parts(river_entry) or prev
    for r in timeline.itertuples(index=False):
        here = _parts(r.country)
        for c in here:
            if c in seen:
                continue
            up = [p for p in prev if p != c] or [p for p in here if p != c] or [origin]
            rows.append({"notified": c, "origin": origin, "upstream": "|".join(up), "checkpoint": r.checkpoint,
                         "river_km": r.river_km, "warning_h": r.leading_edge_h,
                         "warning_h_fast": r.leading_edge_h_fast})
            seen.add(c)
        if here:
            prev = here
    df = pd.DataFrame(rows, columns=["notified", "origin", "upstream", "checkpoint", "river_km", "warning_h",
                                     "warning_h_fast"])
    key = df["warning_h_fast"].fillna(df["warning_h"]).fillna(-1.0)
    return df.assign(_k=key).sort_values(["_k", "warning_h"], kind="mergesort", na_position="first") \
        .drop(columns="_k").reset_index(drop=True)


def notification_matrix(cards: Sequence[ScenarioCard]) -> pd.DataFrame:
    """Origin country x notified country: the minimum warning time (h, fast case) over the cards.

    A cell is NaN when no card links the pair, and ``0``-free: an unknown time
    (river entry in another country) is kept as NaN in ``min_warning_h`` and
    counted in ``unknown_time`` of :func:`notification_pairs`.
    """
    pairs = notification_pairs(cards)
    if pairs.empty:
        return pd.DataFrame()
    return pairs.pivot(index="origin", columns="notified", values="min_warning_h_fast")


def notification_pairs(cards: Sequence[ScenarioCard]) -> pd.DataFrame:
    """Long form of the notification matrix, one row per origin and notified country.

    Columns ``origin``, ``notified``, ``min_warning_h_fast``, ``min_warning_h``,
    ``unknown_time`` (a card reaches the country before any modelled checkpoint), ``sites``.
    """
    allrows = [c.notifications.assign(site=c.site["name"]) for c in cards if len(c.notifications)]
    if not allrows:
        return pd.DataFrame(columns=["origin", "notified", "min_warning_h_fast", "min_warning_h",
                                     "unknown_time", "sites"])
    df = pd.concat(allrows, ignore_index=True)
    g = df.groupby(["origin", "notified"], sort=True)
    out = pd.DataFrame({
        "min_warning_h_fast": g["warning_h_fast"].min(), "min_warning_h": g["warning_h"].min(),
        "unknown_time": g["warning_h"].apply(lambda s: bool(s.isna().any())),
        "sites": g["site"].apply(lambda s: sorted(set(s))),
    }).reset_index()
    return out


def _route_png(res: Any, basin: Any, site_geom: Any, title: str) -> str:
    """A small static route map (basin outline, reaches, path, site, checkpoints) as a data URI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from riskmap.report_figures import mpl_text, png_uri

    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    if basin is not None:
        basin.outline.boundary.plot(ax=ax, color="#777777", linewidth=0.6)
        basin.reaches.plot(ax=ax, color="#9ecae1", linewidth=0.4)
    path = getattr(res, "path", None)
    if path is not None and len(path):
        gpd.GeoSeries(path.geometry, crs=4326).plot(ax=ax, color="#c0392b", linewidth=1.6)
    cp = res.checkpoints
    if {"_lon", "_lat"} <= set(cp.columns):
        sel = cp[cp["kind"].isin(["border", "town", "reservoir", "lake"]) & cp["_lon"].notna()]
        ax.scatter(sel["_lon"], sel["_lat"], s=10, c="#1b4f72", zorder=4)
    if site_geom is not None and not site_geom.is_empty:
        pt = site_geom.representative_point()
        ax.scatter([pt.x], [pt.y], s=60, marker="*", c="#000000", zorder=5)
    ax.set_title(mpl_text(title), fontsize=8)
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.tight_layout()
    return png_uri(fig)


def _card_gaps(site: Mapping[str, Any], unknown: list[str], scenario: dict[str, Any], res: Any,
               river_entry: str | None) -> list[str]:
    gaps = [_("{field}: unknown").format(field=lab) for lab in unknown]
    if not scenario["volume_known"]:
        gaps.append(_("release mass: nominal (stored quantity not in the inventory)"))
    prec = str(site.get("coord_precision") or "")
    if prec in ("town", "approximate", "unknown", ""):
        shown = prec or "unknown"
        gaps.append(_("location: coordinate precision '{precision}'").format(
            precision=shown if current_lang() == "en" else _value_label("coord_precision", shown)))
    if river_entry:
        gaps.append(_("the modelled river entry lies in {entry}, not in {country}: the time to that border is "
                      "not modelled").format(entry=_code_or_label(river_entry),
                                             country=_code_or_label(site.get("country"))))
    for note in dict.fromkeys(str(n) for n in res.checkpoints.get("note", pd.Series(dtype=str)).fillna("")):
        if note:
            gaps.append(_("spill model: {note}").format(note=note))
    gaps += [_("spill model: {note}").format(note=a) for a in res.assumptions if a.startswith("STOPPED")]
    return gaps


def scenario_card(site: pd.Series, basin_id: str, params: Mapping[str, Any], *, inventory: Any = None,
                  basin: Any = None, draw: bool = True) -> ScenarioCard:
    """Build the scenario card of one site (runs :func:`riskmap.spill.simulate_spill`).

    Parameters
    ----------
    site : Series
        An assessed (and scored) site row.
    basin_id : str
        Its basin.
    params : dict
        :func:`load_contingency_params`.
    inventory : GeoDataFrame, optional
        The inventory the site comes from (for :func:`riskmap.spill.locate_release`).
    basin : Basin, optional
        Loaded basin (for towns and the route map).
    """
    from riskmap import spill as sp

    meta = params["meta"]
    scen = release_scenario(site, params)
    where, b = sp.locate_release(str(site["site_id"]), inventory, basin=basin_id)
    res = sp.simulate_spill(where, scen["mass_kg"], scen["duration_h"], basin=b, model=meta["model"],
                            discharge=meta["discharge"], threshold_mg_l=float(meta["threshold_mg_l"]))
    towns = getattr(basin, "towns", None)
    timeline = timeline_table(res.checkpoints, towns)
    origin = str(site.get("country") or UNKNOWN)
    entry = None
    path = getattr(res, "path", None)
    if path is not None and len(path) and "country" in path.columns:
        first = str(path["country"].iloc[0])
        if not set(_parts(first)) & set(_parts(origin)):
            entry = first
    known, unknown = site_facts(site)
    info = {"site_id": str(site["site_id"]), "name": str(site.get("name") or site["site_id"]),
            "category": str(site.get("category") or UNKNOWN), "country": origin, "basin": basin_id,
            "priority_rank": site.get("priority_rank"), "river_entry": entry,
            "snap_km": res.params.get("snap_km")}
    title = _("{name}: route to the outlet").format(name=info["name"])
    png = _route_png(res, basin, site.geometry, title) if draw else ""
    return ScenarioCard(info, known, unknown, scen, res, timeline, notification_table(timeline, origin, entry),
                        png, _card_gaps(site, unknown, scen, res, entry))


# ------------------------------------------------------------------ the plan


@dataclass
class ContingencyPlan:
    """A basin contingency plan: cards, notifications, matrix, gaps; what :func:`build_contingency` writes."""

    basin_id: str
    basin_name: str
    riparian: list[str]
    cards: list[ScenarioCard]
    contacts: pd.DataFrame
    params: dict[str, Any]
    files: list[Path] = field(default_factory=list)

    @property
    def pairs(self) -> pd.DataFrame:
        """:func:`notification_pairs` of the cards."""
        return notification_pairs(self.cards)

    @property
    def matrix(self) -> pd.DataFrame:
        """:func:`notification_matrix` of the cards."""
        return notification_matrix(self.cards)


def _h(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)) or pd.isna(v):
        return _unknown()
    return _loc(f"{v:,.1f}")


def _mg(v: Any) -> str:
    return _unknown() if v is None or pd.isna(v) else _loc(f"{v:.3g}")


def _contacts_for(contacts: pd.DataFrame, country: str) -> list[str]:
    sub = contacts[contacts["country"] == country]
    return [" · ".join(x for x in (r.role, r.organisation, r.contact) if x) for r in sub.itertuples()] \
        or [_(TO_BE_SUPPLIED)]


def _population(v: Any) -> str:
    return _unknown() if pd.isna(v) else _loc(f"{v:,.0f}")


def _card_context(card: ScenarioCard, contacts: pd.DataFrame) -> dict[str, Any]:
    rows = [{"checkpoint": checkpoint_label(r.checkpoint, r.kind, r.country), "kind": kind_label(r.kind),
             "country": " / ".join(country_label(c) for c in _parts(r.country)),
             "km": _h(r.river_km), "lead": _h(r.leading_edge_h), "lead_fast": _h(r.leading_edge_h_fast),
             "peak": _h(r.peak_time_h), "conc": _mg(r.peak_mg_l),
             "range": f"{_mg(r.peak_mg_l_low)}–{_mg(r.peak_mg_l_high)}", "above": _h(r.above_threshold_h),
             "population": _population(r.population) if r.kind == "town" else "",
             "note": r.note} for r in card.timeline.itertuples(index=False)]
    notes = [{"notified": country_label(r.notified), "notified_code": r.notified,
              "origin": country_label(r.origin), "upstream": " / ".join(country_label(c) for c in _parts(r.upstream)),
              "checkpoint": checkpoint_label(r.checkpoint), "central": _h(r.warning_h), "fast": _h(r.warning_h_fast),
              "contacts_origin": _contacts_for(contacts, r.origin),
              "contacts_notified": _contacts_for(contacts, r.notified)}
             for r in card.notifications.itertuples(index=False)]
    s = card.site
    return {"site": {**s, "country_label": country_label(s["country"]),
                     "category_label": _value_label("category", s["category"]),
                     "river_entry_label": country_label(s["river_entry"]) if s["river_entry"] else None,
                     "rank": _unknown() if _missing(s["priority_rank"]) else f"{float(s['priority_rank']):.0f}"},
            "anchor": "card-" + re.sub(r"[^a-z0-9]+", "-", s["site_id"].lower()),
            "known": card.known, "unknown": card.unknown, "scenario": card.scenario,
            "mass": _mass_text(card.scenario["mass_kg"]),
            "duration": _("{value} h").format(value=_loc(f"{card.scenario['duration_h']:g}")),
            "model": card.result.params.get("model"), "discharge": _discharge_label(card.result.params.get("discharge")),
            "threshold": _loc(f"{card.result.params.get('threshold_mg_l', float('nan')):g}"),
            "snap": _h(card.site.get("snap_km")),
            "uncertainty": card.result.uncertainty.get("statement", ""),
            "timeline": rows, "notifications": notes, "route_png": card.route_png, "gaps": card.gaps}


def _discharge_label(which: Any) -> str:
    """The discharge case of the spill run (``mean``/``low``) in the current language."""
    labels = {"mean": pgettext("discharge case", "mean"), "low": pgettext("discharge case", "low")}
    return labels.get(str(which), str(which))


def _matrix_context(plan: ContingencyPlan) -> dict[str, Any]:
    pairs = plan.pairs
    if pairs.empty:
        return {"origins": [], "notified": [], "cells": {}}
    origins, notified = sorted(pairs["origin"].unique()), sorted(pairs["notified"].unique())
    cells: dict[str, dict[str, str]] = {o: {n: "" for n in notified} for o in origins}
    for r in pairs.itertuples(index=False):
        fast, central = _h(r.min_warning_h_fast), _h(r.min_warning_h)
        txt = _("{fast} h (central {central} h)").format(fast=fast, central=central)
        if r.unknown_time:
            txt = _("before the first checkpoint (time unknown)") if pd.isna(r.min_warning_h) else \
                _("{fast} h (central {central} h); before the first checkpoint for some sites").format(
                    fast=fast, central=central)
        cells[r.origin][r.notified] = txt
    return {"origins": [{"code": o, "label": country_label(o)} for o in origins],
            "notified": [{"code": n, "label": country_label(n)} for n in notified], "cells": cells}


def _checkpoints_context(plan: ContingencyPlan) -> list[dict[str, Any]]:
    """Warning checkpoints of the basin: every border/reservoir/lake/town the cards pass, earliest arrival."""
    frames = [c.timeline.assign(site=c.site["name"]) for c in plan.cards]
    if not frames:
        return []
    df = pd.concat(frames, ignore_index=True)
    df = df[df["kind"].isin(["border", "reservoir", "lake", "town"])]
    g = df.groupby(["checkpoint", "kind", "country"], sort=False)
    out = pd.DataFrame({"lead_fast": g["leading_edge_h_fast"].min(), "lead": g["leading_edge_h"].min(),
                        "n": g["site"].nunique()}).reset_index()
    out = out.sort_values(["lead_fast", "checkpoint"], kind="mergesort", na_position="last")
    return [{"checkpoint": checkpoint_label(r.checkpoint, r.kind, r.country), "kind": kind_label(r.kind),
             "country": " / ".join(country_label(c) for c in _parts(r.country)),
             "lead_fast": _h(r.lead_fast), "lead": _h(r.lead), "n": int(r.n)} for r in out.itertuples()]


def plan_context(plan: ContingencyPlan, generated: str) -> dict[str, Any]:
    """Template context of the annex and the cards (plain values; the templates escape them)."""
    from riskmap.report_sections import _version

    cards = [_card_context(c, plan.contacts) for c in plan.cards]
    gaps = [{"site": c["site"]["name"], "gaps": c["gaps"]} for c in cards if c["gaps"]]
    missing_contacts = [country_label(c) for c in plan.riparian if c not in set(plan.contacts["country"])]
    codes = set(plan.riparian) | {p for c in plan.cards for col in ("notified", "origin", "upstream")
                                  for v in c.notifications[col] for p in _parts(v)}
    return {"basin_id": plan.basin_id, "basin_name": _(plan.basin_name),
            "riparian": [country_label(c) for c in plan.riparian], "cards": cards,
            "matrix": _matrix_context(plan), "checkpoints": _checkpoints_context(plan), "gaps": gaps,
            "missing_contacts": missing_contacts, "sop": sop_context(),
            "params_label": _(plan.params["meta"]["label"]), "version": _version(), "generated": generated,
            "to_be_supplied": _(TO_BE_SUPPLIED), "lang": current_lang(), "kosovo_note": _kosovo_note(codes)}


def sop_context() -> list[dict[str, str]]:
    """The SOP steps (:data:`SOP_STEPS`) in the current language."""
    return [{"step": _(s), "what": _(w)} for s, w in SOP_STEPS]


def _kosovo_note(codes: Any) -> str:
    """The Kosovo footnote when Kosovo* is named in a document ("" otherwise)."""
    from riskmap._iso3 import kosovo_note

    return kosovo_note() if "XKX" in set(codes) else ""


def _environment():
    """The Jinja environment of the contingency and exercise templates (autoescape, gettext installed).

    ``{{ _("...") }}`` in the templates is :func:`riskmap.i18n.gettext` (newstyle:
    ``_("%(n)s sites", n=3)`` escapes the values), so the templates follow
    :func:`riskmap.i18n.use_lang`.
    """
    import jinja2

    from riskmap import i18n

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


def plan_html(plan: ContingencyPlan, which: str = "annex", generated: str = "", *, lang: str | None = None) -> str:
    """Render the annex (``which="annex"``) or the scenario cards (``"cards"``) to HTML in ``lang``.

    The cards' texts (release scenario, gaps) are in the language the plan was built in.
    """
    tpl = {"annex": "contingency_annex.html.j2", "cards": "contingency_cards.html.j2"}[which]
    with use_lang(lang):
        return _environment().get_template(tpl).render(**plan_context(plan, generated))


def _csv_text(df: pd.DataFrame) -> str:
    from riskmap.io import neutralise_formula

    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: neutralise_formula(v if not isinstance(v, list) else "; ".join(v)))
    return out.to_csv(index=False, lineterminator="\n", float_format="%.4g", quoting=csv.QUOTE_NONNUMERIC)


def date_time_text(when: Any, suffix: str = "") -> str:
    """A date and time as written in the documents, in the current language.

    English ``2027-05-12 06:00`` (as before); Russian ``12 мая 2027 г., 06:00``
    (:func:`riskmap.i18n.format_date`).

    Examples
    --------
    >>> import datetime as dt
    >>> date_time_text(dt.datetime(2027, 5, 12, 6, 0))
    '2027-05-12 06:00'
    >>> with use_lang("ru"):
    ...     date_time_text(dt.datetime(2027, 5, 12, 6, 0), " UTC") == "12 мая 2027\u202fг., 06:00 UTC"
    True
    """
    from riskmap.i18n import format_date

    if current_lang() == "en":
        return when.strftime("%Y-%m-%d %H:%M") + suffix
    return f"{format_date(when)}, {when:%H:%M}{suffix}"


def _generated() -> str:
    from riskmap.report import _generation_time

    return date_time_text(_generation_time(), " UTC")


def build_contingency(basin: str, out_dir: str | Path, *, sites: str | Sequence[str] | None = None,
                      params: str | Path | Mapping | None = None, contacts: str | Path | None = None,
                      inventory: gpd.GeoDataFrame | str | Path | None = None, pdf: bool = True,
                      data_dir: str | Path | None = None, lang: str | None = None) -> ContingencyPlan:
    """Write the contingency documents of a basin: annex, scenario cards, notification tables.

    Parameters
    ----------
    basin : str
        Basin id or name (``syr_darya``, ``Drina``).
    out_dir : path
        Output folder (created). Files: ``<basin>_contingency_annex.html`` (+ ``.pdf``),
        ``<basin>_scenario_cards.html`` (+ ``.pdf``), ``<basin>_notifications.csv``,
        ``<basin>_notification_matrix.csv``, ``<basin>_timelines.csv``.
    sites : str or list, optional
        ``"top:N"`` (default ``top:<meta.top_n>``: best priority rank with a
        transboundary path) or site ids.
    params : path or mapping, optional
        Overrides of ``riskmap/params/contingency.toml``.
    contacts : path, optional
        Contact points (CSV ``country, role, organisation, contact``); else
        every step says "to be supplied".
    inventory : GeoDataFrame or path, optional
        Site inventory (default the bundled one).
    pdf : bool
        Also print the HTML documents to PDF (Chromium).
    lang : str, optional
        Output language of the documents (``"en"``, ``"ru"``; default the current
        language, see :func:`riskmap.i18n.use_lang`). The CSV tables keep their
        English column names and the spill model's checkpoint names and codes
        (machine-readable); the annex and the cards are written in ``lang``.

    Returns
    -------
    ContingencyPlan
        With ``files`` written.

    Examples
    --------
    >>> plan = build_contingency("drina", "out/contingency", sites="top:2", pdf=False)  # doctest: +SKIP
    """
    with use_lang(lang):
        return _build_contingency(basin, out_dir, sites=sites, params=params, contacts=contacts,
                                  inventory=inventory, pdf=pdf, data_dir=data_dir)


def _build_contingency(basin: str, out_dir: str | Path, *, sites: Any, params: Any, contacts: Any, inventory: Any,
                       pdf: bool, data_dir: Any) -> ContingencyPlan:
    from riskmap.basins import basin_name, resolve_basin
    from riskmap.hydrography import load_basin
    from riskmap.io import atomic_write_text
    from riskmap.pipeline import read_step

    basin_id = resolve_basin(basin)
    par = load_contingency_params(params)
    cont = read_contacts(contacts)
    raw = read_step(inventory, data_dir=data_dir).sites
    prepared = basin_sites(raw, basin_id, data_dir)
    chosen = select_sites(prepared, basin_id, sites, int(par["meta"]["top_n"]))
    where = chosen["basin"].astype("string").fillna("none")
    if (where != basin_id).any():
        bad = [f"{i} (basin {b})" for i, b in zip(chosen["site_id"].astype(str), where) if b != basin_id]
        raise RiskmapInputError(f"--sites: {', '.join(bad)} not in basin {basin_id}")
    b = load_basin(basin_id, data_dir) if data_dir is not None else load_basin(basin_id)
    cards = [scenario_card(row, basin_id, par, inventory=raw, basin=b) for _, row in chosen.iterrows()]
    riparian = [str(c) for c in (b.meta.get("riparian") or [])]
    plan = ContingencyPlan(basin_id, basin_name(basin_id), riparian, cards, cont, par)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gen = _generated()
    files = []
    for which, stem in (("annex", "contingency_annex"), ("cards", "scenario_cards")):
        p = atomic_write_text(out / f"{basin_id}_{stem}.html", plan_html(plan, which, gen))
        files.append(p)
        if pdf:
            from riskmap.report_pdf import html_to_pdf

            footer = (_("riskmap {basin} contingency annex ·") if which == "annex"
                      else _("riskmap {basin} contingency cards ·")).format(basin=_(plan.basin_name))
            files.append(html_to_pdf(p, p.with_suffix(".pdf"), footer=footer))
    notes = pd.concat([c.notifications.assign(site_id=c.site["site_id"], site=c.site["name"]) for c in cards],
                      ignore_index=True) if cards else pd.DataFrame()
    files.append(atomic_write_text(out / f"{basin_id}_notifications.csv", _csv_text(notes)))
    files.append(atomic_write_text(out / f"{basin_id}_notification_matrix.csv", _csv_text(plan.pairs)))
    tl = pd.concat([c.timeline.assign(site_id=c.site["site_id"], site=c.site["name"]) for c in cards],
                   ignore_index=True) if cards else pd.DataFrame()
    files.append(atomic_write_text(out / f"{basin_id}_timelines.csv", _csv_text(tl)))
    plan.files = files
    return plan


#: :data:`riskmap.natech.NO_CLIMATE_DATA`, marked here so that the climate section reads in the output language.
_NO_CLIMATE_DATA = N_("riskmap ships no climate data: the scenario rasters are the user's own GeoTIFFs, "
                      "sampled as given")
_CELL_RE = re.compile(r"(?P<value>\S+) \(class (?P<cls>\w+)\)")


def _climate_text(text: str) -> str:
    """A value cell (``0.42 (class 2)``, ``no data``) or change (``2050: +1; 2080: no data``) of the climate table."""
    if text == "no data":
        return _("no data")
    if m := _CELL_RE.fullmatch(text):
        cls = _unknown() if m["cls"] == "unknown" else m["cls"]
        return _("{value} (class {cls})").format(value=_loc(m["value"]), cls=cls)
    parts = [p.rsplit(": ", 1) for p in text.split("; ")]
    if all(len(p) == 2 for p in parts):
        return "; ".join(f"{k}: {_climate_text(v)}" for k, v in parts)
    return text


def _climate_context(ctx: dict[str, Any]) -> dict[str, Any]:
    if current_lang() == "en":
        return ctx
    hazards = [{**h, "rows": [{**r, "country": _code_or_label(r["country"]) if r["country"] else "",
                               "cells": [_climate_text(c) for c in r["cells"]], "change": _climate_text(r["change"])}
                              for r in h["rows"]]} for h in ctx["hazards"]]
    return {**ctx, "statement": _(ctx["statement"]), "hazards": hazards}


def climate_section_html(sites: pd.DataFrame, *, lang: str | None = None) -> str:
    """The Natech-under-climate-change report section as an HTML fragment ("" without climate columns).

    The report can include it as is (autoescaped template ``contingency_climate.html.j2``;
    context from :func:`riskmap.natech.climate_section`), in ``lang`` (default the
    current language). Hazard and scenario names are the user's raster keys (data).

    Examples
    --------
    >>> climate_section_html(pd.DataFrame({"name": ["x"]}))
    ''
    """
    from riskmap.natech import climate_section

    with use_lang(lang):
        ctx = climate_section(sites)
        if ctx is None:
            return ""
        return _environment().get_template("contingency_climate.html.j2").render(**_climate_context(ctx))

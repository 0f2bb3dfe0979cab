"""Geography accuracy checks: real places with a known basin, downstream countries and river km.

The places are in ``tests/geo_places.csv`` (one row a place). Coordinates are copied unchanged from
GeoNames (``source`` ``geonames``, ``source_id`` the geonameid) or from the bundled inventory
(``source`` ``sites``, ``source_id`` the ``site_id``). Expected values:

``expected_basin``
    ``drin``, ``drina``, ``syr_darya`` or ``outside`` (outside all three).
``expected_downstream``
    Blank when not asserted; ``none`` when no foreign country lies downstream; otherwise the
    foreign countries in the order the water reaches them, ``>``-separated (``UZB>TJK>KAZ``).
    A border reach ``A|B`` reaches both of its countries; the place's own country is never
    foreign and each country counts once, at its first appearance (see :func:`foreign_order`).
``km_min``, ``km_max``
    A plausible range of river km to the first border (``first_border_river_km``), blank when not
    asserted; ``basis`` says why.
``xfail_basin``, ``xfail_order``, ``xfail_km``
    A known failure of the bundled data today, with the reason; the test marks the check
    ``xfail(strict=True)``, so a fix turns it into an XPASS failure and the cell must be cleared.

Used by ``tests/test_geography_places.py`` and ``benchmarks/geo_accuracy.py``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

HERE = Path(__file__).resolve().parent
PLACES_CSV = HERE / "geo_places.csv"
BASINS = ("drin", "drina", "syr_darya")
CHECKS = ("basin", "order", "km")
GEONAMES_REL = Path("geonames-cities500") / "cities500_riskmap_boxes.csv"
TFDD_REL = Path("tfdd-international-basins")

#: Published basin areas (km2) from the project's domain reference (REFERENCE.md, "The three
#: basins"). Drin: "about 19,600 km2" for the extended basin, taken as +-10 %; Drina: 19,570-20,320;
#: Syr Darya: 219,000 (flow-forming part) to 402,760 (commonly cited).
PUBLISHED_AREA_KM2: dict[str, tuple[float, float]] = {
    "drin": (17_640.0, 21_560.0),
    "drina": (19_570.0, 20_320.0),
    "syr_darya": (219_000.0, 402_760.0),
}

#: TFDD basin codes each bundled basin should sit inside (validation only: a coarse, generalised
#: outline). The Drina has no TFDD basin of its own: it is part of the Danube (DANU). Our Drin includes
#: the Prespa catchment, which TFDD keeps as a separate basin (LKPP).
TFDD_PARENT: dict[str, tuple[str, tuple[str, ...]]] = {
    "drin": ("tfdd_basins_western_balkans.gpkg", ("DRIN",)),  # TFDD's LKPP (7,704 km2) is far too big
    "drina": ("tfdd_basins_western_balkans.gpkg", ("DANU",)),
    "syr_darya": ("tfdd_basins_central_asia.gpkg", ("ARAL",)),
}
#: TFDD neighbours across each bundled basin's divide (the outline should not reach into them).
TFDD_NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "drin": ("DANU", "VRDR", "VJSE"),
    "drina": ("DRIN", "NRTV"),
    "syr_darya": ("SHUR", "TALA"),
}


def load_places(path: Path = PLACES_CSV) -> pd.DataFrame:
    """Read the places table, keeping blanks as empty strings / NaN."""
    df = pd.read_csv(path, dtype={"source_id": str}, keep_default_na=False)
    for c in ("lon", "lat"):
        df[c] = df[c].astype(float)
    for c in ("km_min", "km_max"):
        df[c] = pd.to_numeric(df[c].replace("", np.nan))
    return df


def places_frame(places: pd.DataFrame) -> gpd.GeoDataFrame:
    """The places as a site frame with the schema's required fields, ready for ``assess``."""
    return gpd.GeoDataFrame(
        {"site_id": [f"place-{i}" for i in range(len(places))], "name": places["name"].to_numpy(),
         "category": "other", "coord_precision": places["coord_precision"].to_numpy(),
         "source": places["source"].to_numpy(), "source_id": places["source_id"].to_numpy(),
         "country": places["country"].to_numpy()},
        geometry=[Point(x, y) for x, y in zip(places["lon"], places["lat"])], crs="EPSG:4326")


def foreign_order(downstream: object, own: str) -> list[str]:
    """Foreign countries in ``downstream`` in first-reached order.

    A border reach ``"A|B"`` reaches each of its countries; ``own`` is dropped; each country
    counts once.
    """
    if not isinstance(downstream, (list, tuple)):
        return []
    seen: list[str] = []
    for entry in downstream:
        for c in str(entry).split("|"):
            if c and c != own and c not in seen:
                seen.append(c)
    return seen


def expected_order(cell: str) -> list[str] | None:
    """Parse ``expected_downstream``: None when blank, [] for ``none``."""
    cell = cell.strip()
    if not cell:
        return None
    return [] if cell == "none" else cell.split(">")


def evaluate(places: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    """One row per place: what ``assess`` gave and whether each asserted check holds.

    ``ok_basin``, ``ok_order``, ``ok_km`` are True/False where the check is asserted and NA
    where it is not; ``km_err`` is the relative error of the river km against the range midpoint.
    """
    res = places[["name", "country", "expected_basin", "expected_downstream", "km_min", "km_max"]].copy()
    got_basin = out["basin"].astype(object).where(out["basin"].notna(), "outside").to_numpy()
    res["got_basin"] = got_basin
    res["got_order"] = [">".join(foreign_order(d, c) or ["none"])
                        for d, c in zip(out["downstream_countries"], places["country"])]
    res["got_km"] = pd.to_numeric(out["first_border_river_km"]).to_numpy()
    res["river_km_basis"] = out["river_km_basis"].to_numpy()
    res["got_in_basin"] = out["in_basin"].to_numpy()
    res["drainage_by"] = out["drainage_by"].to_numpy()
    res["reach_name"] = out["reach_name"].to_numpy()
    res["ok_basin"] = pd.array(got_basin == places["expected_basin"].to_numpy(), dtype="boolean")
    exp = [expected_order(c) for c in places["expected_downstream"]]
    ok_order = [pd.NA if e is None else (gb == eb and g == (">".join(e) or "none"))
                for e, g, gb, eb in zip(exp, res["got_order"], got_basin, places["expected_basin"])]
    res["ok_order"] = pd.array(ok_order, dtype="boolean")
    has = res["km_min"].notna() & res["km_max"].notna()
    km = res["got_km"]
    inside = (km >= res["km_min"]) & (km <= res["km_max"]) & (res["got_basin"] == res["expected_basin"])
    res["ok_km"] = pd.array(np.where(has, inside, pd.NA), dtype="boolean")
    mid = (res["km_min"] + res["km_max"]) / 2
    res["km_err"] = np.where(has, (km - mid).abs() / mid, np.nan)
    return res


def figures(res: pd.DataFrame) -> dict[str, float]:
    """The issue's target figures (percent right, median km error) over the asserted checks."""
    f: dict[str, float] = {}
    for chk in CHECKS:
        col = res[f"ok_{chk}"].dropna()
        f[f"{chk}_n"] = float(len(col))
        f[f"{chk}_right_pct"] = float(100 * col.mean()) if len(col) else float("nan")
    err = res["km_err"].dropna()
    f["km_median_err_pct"] = float(100 * err.median()) if len(err) else float("nan")
    f["km_median_signed_err_pct"] = float(100 * (
        (res["got_km"] - (res["km_min"] + res["km_max"]) / 2) / ((res["km_min"] + res["km_max"]) / 2)
    ).dropna().median()) if len(err) else float("nan")
    return f


def figures_by_basin(res: pd.DataFrame) -> pd.DataFrame:
    """:func:`figures` for the places of each expected basin (``outside`` included)."""
    return pd.DataFrame({b: figures(g) for b, g in res.groupby("expected_basin")}).T


def failures(res: pd.DataFrame) -> list[dict]:
    """Every failing asserted check: place, check, expected and obtained values."""
    out = []
    for chk in CHECKS:
        bad = res[~res[f"ok_{chk}"].fillna(True).astype(bool)]
        for _, r in bad.iterrows():
            exp = {"basin": r.expected_basin, "order": r.expected_downstream,
                   "km": f"{r.km_min:g}-{r.km_max:g}"}[chk]
            got = {"basin": r.got_basin, "order": f"{r.got_basin}: {r.got_order}",
                   "km": f"{r.got_km:.1f} ({r.river_km_basis})"}[chk]
            out.append({"check": chk, "name": r["name"], "expected": exp, "got": got})
    return out


def outline_areas(basins: dict) -> pd.DataFrame:
    """Bundled outline area (geodesic km2) against the published range."""
    from riskmap._geo import geodesic_area_km2

    rows = []
    for bid, b in basins.items():
        geom = shapely.union_all(b.outline.to_crs(4326).geometry.to_numpy())
        a = float(geodesic_area_km2(geom))
        lo, hi = PUBLISHED_AREA_KM2[bid]
        rows.append({"basin": bid, "area_km2": a, "published_min": lo, "published_max": hi,
                     "within": lo <= a <= hi})
    return pd.DataFrame(rows)


def tfdd_overlap(basins: dict, sources_dir: Path | None = None) -> pd.DataFrame | None:
    """Share of each bundled outline inside its TFDD parent basin and the IoU (validation only).

    None when the source datasets (``../shared/data/sources``) are not there.
    """
    from riskmap._geo import geodesic_area_km2
    from riskmap._paths import default_sources_dir

    tfdd_dir = (default_sources_dir() if sources_dir is None else Path(sources_dir)) / TFDD_REL
    if not tfdd_dir.is_dir():
        return None
    rows = []
    for bid, b in basins.items():
        fname, codes = TFDD_PARENT[bid]
        t = gpd.read_file(tfdd_dir / fname)
        parent = shapely.make_valid(shapely.union_all(t.loc[t["BCODE"].isin(codes)].geometry.to_numpy()))
        mine = shapely.make_valid(shapely.union_all(b.outline.to_crs(4326).geometry.to_numpy()))
        a_mine = float(geodesic_area_km2(mine))
        a_inter = float(geodesic_area_km2(shapely.intersection(mine, parent)))
        a_union = float(geodesic_area_km2(shapely.union(mine, parent)))
        nb = shapely.make_valid(shapely.union_all(
            t.loc[t["BCODE"].isin(TFDD_NEIGHBOURS[bid])].geometry.to_numpy()))
        a_nb = float(geodesic_area_km2(shapely.intersection(mine, nb)))
        rows.append({"basin": bid, "tfdd": "+".join(codes), "share_inside": a_inter / a_mine,
                     "neighbours": "+".join(TFDD_NEIGHBOURS[bid]), "share_in_neighbours": a_nb / a_mine,
                     "iou": a_inter / a_union, "tfdd_area_km2_clipped": float(geodesic_area_km2(parent))})
    return pd.DataFrame(rows)


def load_bundled() -> dict | None:
    """The three bundled basins, or None when the reference hydrography is not built."""
    from riskmap._paths import DATA_DIR
    from riskmap.hydrography import load_basin

    if not all((DATA_DIR / "basins" / f"{b}.gpkg").exists() for b in BASINS):
        return None
    return {b: load_basin(b) for b in BASINS}


def run(places: pd.DataFrame | None = None, basins: dict | None = None) -> pd.DataFrame:
    """Assess the places on the bundled basins and evaluate every check."""
    from riskmap.exposure import assess

    places = load_places() if places is None else places
    basins = load_bundled() if basins is None else basins
    out = assess(places_frame(places), list(basins.values()))
    return evaluate(places, out)

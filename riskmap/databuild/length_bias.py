"""River-length bias of the bundled networks against published river lengths (issue 15 item 4).

The published lengths (``river_lengths.toml`` next to this module, one citation per row) are
compared with the length of the same stretch on the **raw** network (the ``length_km`` the data
build measured along the lines, read straight from ``data/basins/<basin>.gpkg``). Each stretch is
classified by the kind of network it runs on: ``cartographic`` (generalised 1:10m lines) or ``dem``
(D8 flow paths on the GEBCO 15-arc-second grid; reaches with an ``upland_km2``). A stretch that
mixes both (the Syr Darya main stem: DEM above 66.15 E, cartographic below) is a check of the two
factors together, not a sample of either.

Per kind, the correction factor is the median of published / network over the used stretches of
that kind, its spread the smallest and largest ratio. :func:`write_factors` stores them in
``riskmap/params/river_length.toml`` with the sample and the date, which :mod:`riskmap.river_length`
applies to every reach when a basin is loaded. Run::

    python -m riskmap.databuild.length_bias            # print the table
    python -m riskmap.databuild.length_bias --write    # and write riskmap/params/river_length.toml

Never fitted to ``tests/geo_places.csv``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapInputError
from riskmap._paths import PARAMS_DIR
from riskmap.hydrography import basins_dir
from riskmap.network import RiverNetwork

__all__ = ["PUBLISHED_FILE", "FACTORS_FILE", "load_published", "measure", "factors", "write_factors"]

#: Published river lengths with their citations.
PUBLISHED_FILE = Path(__file__).with_name("river_lengths.toml")
#: Where :func:`write_factors` stores the factors (read by :mod:`riskmap.river_length`).
FACTORS_FILE = PARAMS_DIR / "river_length.toml"
#: Network kinds with a factor.
KINDS: tuple[str, ...] = ("cartographic", "dem")


def load_published(path: str | Path = PUBLISHED_FILE) -> list[dict[str, Any]]:
    """The published stretches (``[[stretch]]`` tables of ``river_lengths.toml``)."""
    with open(path, "rb") as f:
        rows = tomllib.load(f).get("stretch", [])
    if not rows:
        raise RiskmapInputError(f"{path}: no [[stretch]] table")
    return [dict(r) for r in rows]


def _fold(s: Any) -> str:
    """Lower-case name without diacritics ("Ćehotina" -> "cehotina")."""
    t = unicodedata.normalize("NFKD", str(s or "")).encode("ascii", "ignore").decode()
    return t.lower().strip()


def raw_reaches(basin: str, data_dir: str | Path | None = None) -> gpd.GeoDataFrame:
    """The reaches layer as the data build wrote it (no length correction), with a ``kind`` column."""
    path = basins_dir(data_dir) / f"{basin}.gpkg"
    r = gpd.read_file(path, layer="reaches")
    dem = r["upland_km2"].notna().to_numpy() if "upland_km2" in r.columns else np.zeros(len(r), bool)
    r["kind"] = np.where(dem, "dem", "cartographic")
    return r


def _point_km(r: gpd.GeoDataFrame, cand: np.ndarray, lonlat: tuple[float, float]) -> tuple[int, float]:
    """Nearest candidate reach to a point and the river km of the point to the outlet."""
    lon, lat = lonlat
    sub = r.iloc[cand].to_crs(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +units=m")
    origin = shapely.Point(0.0, 0.0)
    i = int(np.argmin(sub.distance(origin).to_numpy()))
    g = sub.geometry.iloc[i]
    frac = g.project(origin) / g.length if g.length > 0 else 0.0
    row = r.iloc[cand[i]]
    return int(cand[i]), float(row["dist_to_outlet_km"] + (1.0 - frac) * row["length_km"])


def measure_stretch(r: gpd.GeoDataFrame, s: dict[str, Any]) -> dict[str, Any]:
    """Network km of one published stretch, with the share of it on DEM reaches."""
    named = np.flatnonzero(r["name"].map(_fold).str.contains(_fold(s["river"]), regex=False).to_numpy())
    if len(named) == 0:
        raise RiskmapInputError(f"{PUBLISHED_FILE}: no reach named {s['river']!r} in basin {s['basin']!r}")
    top = r["dist_to_outlet_km"].to_numpy(float) + r["length_km"].to_numpy(float)
    if "start" in s:
        i0, km0 = _point_km(r, named, tuple(s["start"]))
    else:
        i0 = int(named[np.argmax(top[named])])
        km0 = float(top[i0])
    net = RiverNetwork.from_reaches(r)
    path = net.downstream_path(int(r["reach_id"].iloc[i0]))["position"].to_numpy()
    on = np.intersect1d(path, named) if s.get("end") != "outlet" else path
    i1 = int(on[np.argmin(r["dist_to_outlet_km"].to_numpy(float)[on])])
    km1 = float(r["dist_to_outlet_km"].iloc[i1])
    stretch = path[: int(np.flatnonzero(path == i1)[0]) + 1]
    lens = r["length_km"].to_numpy(float)[stretch]
    dem = (r["kind"].to_numpy()[stretch] == "dem")
    km = km0 - km1
    dem_share = float(lens[dem].sum() / lens.sum()) if lens.sum() > 0 else 0.0
    kind = "dem" if dem_share > 0.95 else "cartographic" if dem_share < 0.05 else "mixed"
    return {"river": s["river"], "basin": s["basin"], "what": s["what"], "published_km": float(s["published_km"]),
            "network_km": round(km, 1), "dem_km": round(float(lens[dem].sum()), 1),
            "cartographic_km": round(float(lens[~dem].sum()), 1), "kind": kind,
            "ratio": round(float(s["published_km"]) / km, 3), "used": bool(s.get("used", True)),
            "source": s["source"], "note": s.get("note", "")}


def measure(data_dir: str | Path | None = None, published: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """Published vs network km of every stretch (one row each; ``ratio`` = published / network)."""
    rows = published if published is not None else load_published()
    cache: dict[str, gpd.GeoDataFrame] = {}
    out = []
    for s in rows:
        if s["basin"] not in cache:
            cache[s["basin"]] = raw_reaches(s["basin"], data_dir)
        out.append(measure_stretch(cache[s["basin"]], s))
    return pd.DataFrame(out)


def factors(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per network kind: ``factor`` (median published / network), ``low`` and ``high`` (extremes), ``n``.

    Examples
    --------
    >>> t = pd.DataFrame({"kind": ["cartographic", "cartographic", "cartographic", "dem", "mixed"],
    ...                   "ratio": [1.1, 1.2, 1.05, 0.99, 1.3], "used": [True, True, True, True, True],
    ...                   "river": list("abcde")})
    >>> f = factors(t)
    >>> f["cartographic"]["factor"], f["cartographic"]["low"], f["cartographic"]["high"], f["dem"]["n"]
    (1.1, 1.05, 1.2, 1)
    """
    out: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        t = table[(table["kind"] == kind) & table["used"]]
        if t.empty:
            raise RiskmapInputError(f"{PUBLISHED_FILE}: no used stretch on a {kind} network")
        r = t["ratio"].to_numpy(float)
        out[kind] = {"factor": round(float(np.median(r)), 3), "low": round(float(r.min()), 3),
                     "high": round(float(r.max()), 3), "n": int(len(r)), "rivers": list(t["river"])}
    return out


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_factors(table: pd.DataFrame, path: str | Path = FACTORS_FILE) -> Path:
    """Write the factors and the sample to ``path`` (atomic: a temporary file renamed over it)."""
    f = factors(table)
    lines = ["# River-length correction factors (true river km / network km) per network kind.",
             "# Written by `python -m riskmap.databuild.length_bias --write` from the published lengths in",
             "# riskmap/databuild/river_lengths.toml (sources there); applied to every reach when a basin",
             "# is loaded (riskmap.river_length). Do not edit by hand: change the sample and rerun.",
             f"date = {_toml_str(dt.date.today().isoformat())}", ""]
    for kind, v in f.items():
        lines += [f"[{kind}]", f"factor = {v['factor']}", f"low = {v['low']}", f"high = {v['high']}",
                  f"n = {v['n']}", "rivers = [" + ", ".join(_toml_str(x) for x in v["rivers"]) + "]", ""]
    for _, row in table.iterrows():
        lines += ["[[sample]]", f"river = {_toml_str(row['river'])}", f"kind = {_toml_str(row['kind'])}",
                  f"published_km = {row['published_km']}", f"network_km = {row['network_km']}",
                  f"ratio = {row['ratio']}", f"used = {'true' if row['used'] else 'false'}", ""]
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text("\n".join(lines), encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def format_table(table: pd.DataFrame) -> str:
    """The sample as a Markdown table (docs/hydrography.md)."""
    head = "| river (stretch) | kind | published km | network km | published / network | used |\n|---|---|---|---|---|---|"
    rows = [f"| {r.river} ({r.what}) | {r.kind} | {r.published_km:,.0f} | {r.network_km:,.1f} | {r.ratio:.3f} | "
            f"{'yes' if r.used else 'no'} |" for r in table.itertuples()]
    return "\n".join([head, *rows])


def main(argv: list[str] | None = None) -> None:
    """Print the sample and the factors; ``--write`` stores them."""
    ap = argparse.ArgumentParser(prog="python -m riskmap.databuild.length_bias", description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help=f"write {FACTORS_FILE}")
    ap.add_argument("--data-dir", default=None, help="data folder (default: the bundled data)")
    a = ap.parse_args(argv)
    t = measure(a.data_dir)
    print(format_table(t))
    for kind, v in factors(t).items():
        print(f"{kind}: factor {v['factor']} (spread {v['low']}-{v['high']}, n={v['n']}: {', '.join(v['rivers'])})")
    if a.write:
        print(f"wrote {write_factors(t)}")


if __name__ == "__main__":
    main()

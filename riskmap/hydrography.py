"""Load the reference hydrography of a basin and walk its river network downstream.

The data are the products of ``riskmap data build-reference`` in
``data/basins/`` (contract: docs/architecture.md, method: docs/hydrography.md).

Examples
--------
>>> from riskmap.hydrography import list_basins, load_basin
>>> list_basins()
['drin', 'drina', 'syr_darya']
>>> b = load_basin("drina")
>>> rid = int(b.reaches.loc[b.reaches["dist_to_outlet_km"].idxmax(), "reach_id"])
>>> b.downstream_countries(rid)[-1]
'BIH|SRB'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from riskmap._errors import RiskmapInputError
from riskmap.basins import BASIN_IDS as BASINS
from riskmap.basins import BASIN_NAMES, basins_dir, known_basins, resolve_basin
from riskmap.basins import read_meta as _read_meta
from riskmap.io.atomic import sha256_file
from riskmap.network import RiverNetwork
from riskmap.river_length import correct_reaches

LAYERS: tuple[str, ...] = ("outline", "sub_basins", "reaches", "lakes", "countries", "borders", "towns")


def list_basins(data_dir: str | Path | None = None) -> list[str]:
    """Identifiers of the basins available in ``data/basins``.

    The three reference basins first, then any basin imported with
    :func:`riskmap.databuild.hydrosheds.import_hydrosheds` (listed in ``basins.json``).

    Examples
    --------
    >>> list_basins()
    ['drin', 'drina', 'syr_darya']
    """
    return list(known_basins(data_dir))


def clear_cache() -> None:
    """Forget loaded basins (call after rebuilding ``data/basins`` in the same session).

    Examples
    --------
    >>> clear_cache()
    """
    _load.cache_clear()


def split_country(label: str | None) -> list[str]:
    """``"BIH|SRB"`` -> ``["BIH", "SRB"]``; ``"BIH"`` -> ``["BIH"]``; None -> ``[]``.

    Examples
    --------
    >>> split_country("BIH|SRB")
    ['BIH', 'SRB']
    """
    if not label or not isinstance(label, str):
        return []
    return label.split("|")


def flatten_countries(seq: list[str]) -> list[str]:
    """Expand border pairs into single countries and drop consecutive repeats.

    A pair is expanded so that a member equal to the previous country comes
    first (the river leaves that country along the border); otherwise so that
    the member equal to the next entry comes last.

    Examples
    --------
    >>> flatten_countries(["KGZ", "KGZ|UZB", "UZB", "TJK|UZB", "TJK"])
    ['KGZ', 'UZB', 'TJK']
    >>> flatten_countries(["XKX", "ALB|XKX", "ALB", "ALB|MNE"])
    ['XKX', 'ALB', 'MNE']
    """
    out: list[str] = []
    for i, lab in enumerate(seq):
        parts = split_country(lab)
        if len(parts) > 1:
            prev = out[-1] if out else None
            nxt = split_country(seq[i + 1]) if i + 1 < len(seq) else []
            first = [p for p in parts if p == prev]
            last = [p for p in parts if p in nxt and p not in first]
            mid = [p for p in parts if p not in first and p not in last]
            parts = first + mid + last
        for p in parts:
            if not out or out[-1] != p:
                out.append(p)
    return out


@dataclass
class Basin:
    """One basin's reference hydrography (all layers EPSG:4326).

    Attributes
    ----------
    name : str
        Display name (``"Drina"``).
    id : str
        Identifier (``"drina"``).
    outline, sub_basins, reaches, lakes, countries, borders, towns : GeoDataFrame
        The layers of ``data/basins/<id>.gpkg``.
    meta : dict
        The basin's ``basins.json`` entry.
    dams : GeoDataFrame
        Layer ``dams`` (operating large hydropower dams on the network, GEM GHPT: ``name``, ``river``,
        ``capacity_mw``, ``reach_id``, ``dist_km``, ``plants``, ``marks_reservoir``, ``source``); empty when
        the file has no such layer (e.g. a HydroSHEDS import).
    """

    name: str
    id: str
    outline: gpd.GeoDataFrame
    sub_basins: gpd.GeoDataFrame
    reaches: gpd.GeoDataFrame
    lakes: gpd.GeoDataFrame
    countries: gpd.GeoDataFrame
    borders: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    dams: gpd.GeoDataFrame = field(default_factory=lambda: gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"))
    #: (path, sha256) of the GeoPackage read by :func:`load_basin`; None for a basin built or
    #: modified in memory (``dataclasses.replace`` resets it). Keys the exposure index cache.
    source_file: tuple[str, str] | None = field(default=None, init=False, compare=False, repr=False)
    #: (path, sha256) of ``countries.gpkg`` beside the basin file (every country, riparian or not);
    #: None when there is none or for a basin built in memory. Read by :attr:`land_countries`.
    countries_file: tuple[str, str] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._table: pd.DataFrame | None = None

    def __getattr__(self, name: str) -> Any:
        """A layer of a basin from :func:`load_basin` not read yet: read it now (once)."""
        lazy = self.__dict__.get("_lazy_layers")
        if not lazy or name not in lazy:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = _read_layer(lazy[name], name)
        self.__dict__[name] = value
        lazy.pop(name, None)
        return value

    @functools.cached_property
    def land_countries(self) -> gpd.GeoDataFrame:
        """Every country with land inside the outline, riparian or not (``iso3``, ``name``, geometry).

        The ``countries`` layer lists the riparians only (at least 20 km2 and 2 % of the basin);
        a site in a smaller share (the Albanian headwaters of the Lim in the Drina basin) still
        lies in a country, which :func:`riskmap.exposure.assess` reads from here. From
        ``countries.gpkg`` beside the basin file (:attr:`countries_file`); the ``countries``
        layer when there is none.

        Examples
        --------
        >>> b = load_basin("drina")
        >>> sorted(b.countries["iso3"]), "ALB" in set(b.land_countries["iso3"])
        (['BIH', 'MNE', 'SRB'], True)
        """
        src = self.countries_file
        if src is None:
            return self.countries
        every = _read_layer(Path(src[0]), "countries")
        outline = shapely.union_all(self.outline.to_crs(every.crs).geometry.to_numpy())
        keep = every[every.intersects(outline)][["iso3", "name", "geometry"]]
        return keep.sort_values("iso3").reset_index(drop=True).to_crs("EPSG:4326")

    @functools.cached_property
    def network(self) -> RiverNetwork:
        """The basin's :class:`riskmap.network.RiverNetwork` (built once, on first use).

        Examples
        --------
        >>> load_basin("drina").network
        RiverNetwork('basin drina', reaches=..., outlets=1)
        """
        return RiverNetwork.from_reaches(self.reaches, name=f"basin {self.id}")

    def __repr__(self) -> str:
        return f"Basin({self.id!r}, reaches={len(self.reaches)}, riparian={self.meta.get('riparian')})"

    def downstream_path(self, reach_id: int) -> pd.DataFrame:
        """The reaches from ``reach_id`` to the outlet, in flow order.

        Columns: ``reach_id``, ``name``, ``length_km``, ``country``, ``is_border``,
        ``waterbody``, ``cum_km`` (km from the start reach's downstream end to the
        downstream end of each reach; 0 for the start reach).

        Examples
        --------
        >>> b = load_basin("drin")
        >>> p = b.downstream_path(int(b.reaches["reach_id"].iloc[-1]))
        >>> int(p["reach_id"].iloc[-1]) in set(b.reaches.loc[b.reaches.downstream_id == -1, "reach_id"])
        True
        """
        path = self.network.downstream_path(reach_id, fraction=1.0)
        r = self.reaches.iloc[path["position"].to_numpy()]
        out = pd.DataFrame({
            "reach_id": r["reach_id"].to_numpy(),
            "name": r["name"].to_numpy(),
            "length_km": r["length_km"].to_numpy(dtype=float),
            "country": r["country"].to_numpy(),
            "is_border": r["is_border"].to_numpy(dtype=bool),
            "waterbody": r["waterbody"].to_numpy(),
        })
        out["cum_km"] = path["end_km"].to_numpy()
        return out

    def downstream_countries(self, reach_id: int) -> list[str]:
        """Ordered countries along the path to the outlet (consecutive repeats removed).

        Border stretches appear as sorted pairs (``"BIH|SRB"``); use
        :func:`flatten_countries` for single countries.

        Examples
        --------
        >>> b = load_basin("drina")
        >>> "BIH|SRB" in b.downstream_countries(int(b.reaches["reach_id"].iloc[-1]))
        True
        """
        out: list[str] = []
        for c in self.downstream_path(reach_id)["country"]:
            if not out or out[-1] != c:
                out.append(c)
        return out

    def reach_table(self) -> pd.DataFrame:
        """Per-reach downstream summary, computed once per basin (for vectorised exposure).

        Returns a DataFrame indexed by ``reach_id`` with:

        - ``downstream_countries``: tuple of labels from :meth:`downstream_countries`,
        - ``downstream_flat``: tuple of single countries (:func:`flatten_countries`),
        - ``country``: the reach's own label,
        - ``km_to_country_change``: km from the reach's downstream end to the first
          reach whose label differs from this reach's (NaN if none before the outlet),
        - ``km_to_border``: km from the reach's downstream end to the upstream end of
          the first border reach downstream (0 if the reach itself is a border
          reach; NaN if none),
        - ``first_foreign_country``: first single country downstream not in this
          reach's label (None if none),
        - ``dist_to_outlet_km``, ``sub_basin``, ``order``, ``discharge_m3s`` (NaN if absent).

        Examples
        --------
        >>> t = load_basin("drina").reach_table()
        >>> bool((t["km_to_border"] >= 0).all() or t["km_to_border"].isna().any())
        True
        """
        if self._table is not None:
            return self._table
        r = self.reaches
        n = len(r)
        lab = r["country"].to_numpy()
        isb = r["is_border"].to_numpy(dtype=bool)
        length = r["length_km"].to_numpy(dtype=float)
        net = self.network
        down = net.down
        seqs: list[tuple[str, ...] | None] = [None] * n
        km_change = np.full(n, np.nan)
        km_border = np.full(n, np.nan)
        for i in net.flow_order:  # each reach after its downstream reach
            d = down[i]
            if d < 0:
                seqs[i] = (lab[i],)
            else:
                ds = seqs[d]
                assert ds is not None
                seqs[i] = ds if ds[0] == lab[i] else (lab[i],) + ds
                # change of label
                if lab[d] != lab[i]:
                    km_change[i] = 0.0
                elif np.isfinite(km_change[d]):
                    km_change[i] = km_change[d] + length[d]
                if isb[d]:
                    km_border[i] = 0.0
                elif np.isfinite(km_border[d]):
                    km_border[i] = km_border[d] + length[d]
            if isb[i]:
                km_border[i] = 0.0
        flat = [tuple(flatten_countries(list(s))) for s in seqs]  # type: ignore[arg-type]
        first_foreign = []
        for s, own in zip(flat, lab):
            mine = set(split_country(own))
            first_foreign.append(next((c for c in s if c not in mine), None))
        table = pd.DataFrame({
            "reach_id": net.ids,
            "country": lab,
            "downstream_countries": seqs,
            "downstream_flat": flat,
            "first_foreign_country": first_foreign,
            "km_to_country_change": km_change,
            "km_to_border": km_border,
            "dist_to_outlet_km": r["dist_to_outlet_km"].to_numpy(dtype=float),
            "sub_basin": r["sub_basin"].to_numpy(),
            "order": r["order"].to_numpy(),
            "discharge_m3s": (r["discharge_m3s"].to_numpy(dtype=float) if "discharge_m3s" in r
                              else np.full(n, np.nan)),
        }).set_index("reach_id")
        self._table = table
        return table


def _read_layer(path: Path, layer: str) -> gpd.GeoDataFrame:
    """One layer of a basin GeoPackage (:class:`RiskmapInputError` naming the file and layer when unreadable)."""
    try:
        return gpd.read_file(path, layer=layer)
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(f"{path}: cannot read layer {layer!r}: {e}") from None


@functools.lru_cache(maxsize=16)
def _load(basin: str, d: str) -> Basin:
    """The basin of ``<d>/<basin>.gpkg``: ``reaches`` read now, the other layers on first use.

    Every layer is checked to exist here (a file without one is refused at load time, as before);
    assessing and scoring need only the reaches and lakes, so the others are not read unless asked for.
    """
    path = Path(d) / f"{basin}.gpkg"
    if not path.is_file():
        raise RiskmapInputError(f"{path}: basin file not found; run `riskmap data build-reference`")
    try:
        present = {str(name) for name, _ in pyogrio.list_layers(path)}
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(f"{path}: cannot read the basin file: {e}") from None
    for lyr in LAYERS:
        if lyr not in present:
            raise RiskmapInputError(f"{path}: cannot read layer {lyr!r}: no such layer")
    r = _read_layer(path, "reaches")
    for c in ("name", "waterbody"):
        r[c] = r[c].astype(object).where(r[c].notna(), None)
    r["is_border"] = r["is_border"].astype(bool)
    meta = dict(_read_meta(Path(d)).get(basin, {}))
    # the one place where network km become bias-corrected river km (riskmap.river_length)
    reaches, meta["river_length_correction"] = correct_reaches(r)
    out = Basin.__new__(Basin)
    out.__dict__.update(name=meta.get("name", BASIN_NAMES.get(basin, basin)), id=basin, meta=meta,
                        reaches=reaches)
    lazy = [lyr for lyr in LAYERS if lyr != "reaches"] + (["dams"] if "dams" in present else [])
    if "dams" not in present:
        out.dams = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    out.__dict__["_lazy_layers"] = {lyr: path for lyr in lazy}
    out.__post_init__()
    out.source_file = (str(path), sha256_file(path))
    every = Path(d) / "countries.gpkg"
    if every.is_file():
        out.countries_file = (str(every), _shared_file_digest(str(every), every.stat().st_mtime_ns))
    return out


@functools.lru_cache(maxsize=8)
def _shared_file_digest(path: str, mtime_ns: int) -> str:
    """SHA-256 of a file every basin of a folder reads (``countries.gpkg``): hashed once, not once per basin."""
    return sha256_file(path)


def load_basin(basin: str, data_dir: str | Path | None = None) -> Basin:
    """Load one basin (cached per data folder).

    Parameters
    ----------
    basin : str
        Identifier or display name, any case (``"drina"``, ``"Drina"``, ``"Syr Darya"``),
        of a reference basin or of one imported into ``data_dir`` (:mod:`riskmap.basins`).
    data_dir : path, optional
        ``data/`` or ``data/basins/`` folder (default: the bundled data).

    Returns
    -------
    Basin

    Examples
    --------
    >>> load_basin("Syr Darya").id
    'syr_darya'
    """
    key = str(basin).strip().lower().replace(" ", "_")
    if key not in BASINS:  # a reference basin missing from data_dir gets the "run build-reference" hint
        key = resolve_basin(basin, data_dir)
    return _load(key, str(basins_dir(data_dir).resolve()))

"""The per-basin exposure index is cached on disk, keyed by the basin data, and gives the same answers."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from riskmap.exposure import assess, clear_cache
from riskmap.hydrography import load_basin


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "index-cache"
    monkeypatch.setenv("RISKMAP_INDEX_CACHE", str(d))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # this test's own cache key
    clear_cache()
    yield d
    clear_cache()


def _sites(basin) -> gpd.GeoDataFrame:
    """Points part-way along every tenth reach plus points off the network, inside the outline."""
    r = basin.reaches.iloc[::10]
    on = shapely.line_interpolate_point(r.geometry.to_numpy(), 0.3, normalized=True)
    off = shapely.get_coordinates(on) + np.array([0.05, -0.04])
    pts = np.concatenate([shapely.get_coordinates(on), off])
    return gpd.GeoDataFrame({"site_id": [f"s{i}" for i in range(len(pts))], "country": [None] * len(pts)},
                            geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs="EPSG:4326")


def test_cached_index_gives_the_same_assessment(cache_dir):
    b = load_basin("drina")
    assert b.source_file is not None and b.source_file[0].endswith("drina.gpkg")
    sites = _sites(b)
    first = assess(sites, [b])
    files = sorted(cache_dir.glob("drina-*.idx"))
    assert len(files) == 1 and files[0].stat().st_size > 0
    assert not list(cache_dir.glob("*.tmp"))
    clear_cache()  # the next call reads the file
    stamp = files[0].stat().st_mtime_ns
    again = assess(sites, [b])
    assert files[0].stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(pd.DataFrame(first), pd.DataFrame(again))
    assert first["reach_id"].notna().sum() >= len(b.reaches.iloc[::10])


def test_modified_basin_is_not_cached_and_corrupt_files_are_rebuilt(cache_dir):
    b = load_basin("drina")
    changed = dataclasses.replace(b, reaches=b.reaches.copy())
    assert changed.source_file is None
    assess(_sites(b).iloc[:3], [changed])
    assert not cache_dir.exists() or not list(cache_dir.iterdir())
    assess(_sites(b).iloc[:3], [b])
    (f,) = cache_dir.glob("drina-*.idx")
    f.write_bytes(b"not an index")
    clear_cache()
    out = assess(_sites(b).iloc[:3], [b])
    assert out["basin"].eq("drina").all()
    assert f.stat().st_size > 100  # rewritten


def test_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKMAP_INDEX_CACHE", "off")
    clear_cache()
    b = load_basin("drina")
    assess(_sites(b).iloc[:2], [b])
    assert not list(tmp_path.iterdir())
    clear_cache()


def test_small_and_large_batches_agree(cache_dir):
    """Few sites use exact tests and run-length grids; many sites use the full lookup grids."""
    b = load_basin("drina")
    sites = _sites(b)
    assess(sites.iloc[:1], [b])  # build and cache the index
    clear_cache()
    small = assess(sites, [b])  # from the cache, below the grid threshold
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = b.outline.total_bounds
    n = 6000
    pad = gpd.GeoDataFrame({"site_id": [f"p{i}" for i in range(n)], "country": [None] * n},
                           geometry=gpd.points_from_xy(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)),
                           crs="EPSG:4326")
    big = assess(pd.concat([sites, pad], ignore_index=True), [b]).iloc[:len(sites)]
    pd.testing.assert_frame_equal(pd.DataFrame(small).reset_index(drop=True),
                                  pd.DataFrame(big).reset_index(drop=True))


class _Planted:
    """Unpickling this calls os.mkdir(marker): what a hostile cache file could do."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("authentic", [False, True])
def test_planted_cache_file_is_never_unpickled(cache_dir, tmp_path, monkeypatch, authentic):
    """A pickle in a cache file is never loaded: without this user's tag, nor with it (arrays only)."""
    import pickle

    # private on purpose: planting a file with this user's own tag needs the cache's secret and MAC
    # (the cache file format has no public face; assess is what reads it)
    from riskmap import index_cache

    b = load_basin("drina")
    assess(_sites(b).iloc[:2], [b])
    (f,) = cache_dir.glob("drina-*.idx")
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(_Planted(str(marker)))
    key = index_cache._cache_secret()
    assert key is not None
    tag = index_cache._mac(key, payload) if authentic else bytes(32)
    f.write_bytes(tag + payload)
    clear_cache()
    out = assess(_sites(b).iloc[:2], [b])
    assert not marker.exists()
    assert out["basin"].eq("drina").all()
    blob = f.read_bytes()
    assert blob[32:] != payload  # rebuilt and rewritten


def test_cache_file_holds_plain_arrays_and_replaces_old_pickles(cache_dir):
    """The file holds plain arrays (no object arrays, no pickle); a version-1 ``.pkl`` of the basin is removed."""
    # private on purpose: the cache file format (its reader and packer) has no public face
    from riskmap import index_cache

    b = load_basin("drina")
    cache_dir.mkdir(parents=True)
    old = cache_dir / "drina-000000000000000000000000.pkl"
    old.write_bytes(b"old")
    assess(_sites(b).iloc[:2], [b])
    (f,) = cache_dir.glob("drina-*.idx")
    assert not old.exists()
    arrays = index_cache._read_index_cache(f)
    assert arrays is not None and all(a.dtype != object for a in arrays.values())
    assert {"head", "outline", "reach_idx.xy", "border_idx.xy", "country_lab.wkb"} <= set(arrays)
    with pytest.raises(TypeError):
        index_cache._pack_arrays({"x": np.array([None], dtype=object)})
    blob = bytearray(f.read_bytes())
    blob[-1] ^= 1  # one flipped bit: not authenticated, ignored
    f.write_bytes(bytes(blob))
    assert index_cache._read_index_cache(f) is None


def test_sub_basin_indexes_rebuilt_from_the_basin_index_are_the_built_ones(cache_dir):
    """The cache keeps each sub-basin's reach vertices once (in the basin's reach index): read back, they are equal."""
    # private on purpose: the index <-> cache arrays round trip is the cache file format (no public face)
    from riskmap.basin_index import _build_index, _index_from_arrays, _index_to_arrays

    for bid in ("drin", "drina"):
        built = _build_index(load_basin(bid))
        arrays = _index_to_arrays(built)
        assert not [k for k in arrays if k.startswith("sub") and k.endswith((".xy", ".vpart", ".vline"))]
        back = _index_from_arrays({k: np.array(v) for k, v in arrays.items()})
        assert back is not None and list(back.sub_reach_idx) == list(built.sub_reach_idx)
        for s, (sel, sidx) in built.sub_reach_idx.items():
            sel2, sidx2 = back.sub_reach_idx[s]
            assert np.array_equal(sel, sel2)
            for a, b in ((sidx, sidx2), (sidx.coarse, sidx2.coarse)):
                assert np.array_equal(a._xy, b._xy) and np.array_equal(a._vpart, b._vpart)
                assert np.array_equal(a.vline, b.vline)

"""riskmap.network: the one river-network model, on synthetic networks and the bundled basins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from riskmap import RiskmapInputError
from riskmap.hydrography import flatten_countries, load_basin
from riskmap.network import RiverNetwork, network_of, strahler_order


@pytest.fixture()
def y_net() -> RiverNetwork:
    """Two sources (10, 20) join into 30, which flows into the outlet 40."""
    return RiverNetwork([40, 10, 30, 20], [-1, 30, 40, 30], length_km=[4.0, 1.0, 3.0, 2.0])


# ------------------------------------------------------------------ synthetic


def test_y_confluence_paths_and_upstream(y_net):
    assert y_net.downstream_ids(10) == [10, 30, 40]
    assert y_net.downstream_ids(20) == [20, 30, 40]
    assert y_net.downstream_ids(40) == [40]
    assert y_net.upstream_ids(30) == [10, 30, 20]  # table order
    assert y_net.upstream_ids(10) == [10]
    assert list(y_net.outlets) == [40]
    assert y_net.depth.tolist() == [0, 2, 1, 2]


def test_y_confluence_flow_order_puts_every_reach_after_its_downstream_reach(y_net):
    rank = np.empty(len(y_net), int)
    rank[y_net.flow_order] = np.arange(len(y_net))
    inner = y_net.down >= 0
    assert (rank[inner] > rank[y_net.down[inner]]).all()
    assert [lev.tolist() for lev in y_net.levels] == [[0], [2], [1, 3]]


def test_y_confluence_totals_strahler_distance(y_net):
    assert y_net.accumulate(y_net.length_km).tolist() == [10.0, 1.0, 6.0, 2.0]
    assert y_net.upstream_totals()["length_km"].to_dict() == {40: 10.0, 10: 1.0, 30: 6.0, 20: 2.0}
    assert y_net.strahler().tolist() == [2, 1, 2, 1]
    assert y_net.dist_to_outlet().tolist() == [0.0, 7.0, 4.0, 7.0]
    assert y_net.first_downstream([False, False, True, False]).tolist() == [-1, 2, 2, 2]


def test_chain_distances_along_the_path():
    net = RiverNetwork([1, 2, 3], [2, 3, -1], length_km=[10.0, 20.0, 5.0])
    p = net.downstream_path(1)
    assert p["reach_id"].tolist() == [1, 2, 3]
    assert p["start_km"].tolist() == [0.0, 10.0, 30.0]
    assert p["end_km"].tolist() == [10.0, 30.0, 35.0]
    assert net.downstream_path(2, fraction=1.0)["end_km"].tolist() == [0.0, 5.0]
    assert net.dist_to_outlet().tolist() == [25.0, 5.0, 0.0]
    assert net.strahler().tolist() == [1, 1, 1]


def test_point_part_way_along_a_reach():
    # reaches digitised downstream along the equator (1 degree ~ 111.3 km; lengths given in km)
    lines = [shapely.LineString([(0, 0), (1, 0)]), shapely.LineString([(1, 0), (2, 0)]),
             shapely.LineString([(2, 0), (3, 0)])]
    net = RiverNetwork([1, 2, 3], [2, 3, -1], length_km=[100.0, 100.0, 100.0], geometry=lines)
    p = net.downstream_path(1, fraction=0.25)
    assert p["remaining_km"].tolist() == [75.0, 100.0, 100.0]
    assert p["start_km"].tolist() == [0.0, 75.0, 175.0]
    g = net.path_geometry(1, fraction=0.25)
    assert g.length == pytest.approx(2.75)
    assert shapely.get_coordinates(g)[:, 0].min() == pytest.approx(0.25)
    # reaches that begin within 80 km of the point: the rest of reach 1 and reach 2 (starts at 75 km)
    assert net.path_geometry(1, fraction=0.25, max_km=80).length == pytest.approx(1.75)
    assert net.path_geometry(1, fraction=0.25, max_km=80, cut=False).length == pytest.approx(2.0)
    assert net.path_geometry(3, fraction=1.0) is None
    with pytest.raises(RiskmapInputError, match="between 0 and 1"):
        net.downstream_path(1, fraction=1.5)


def test_cycle_is_refused_with_its_reaches_named():
    net = RiverNetwork([1, 2, 3, 4], [2, 3, 2, -1], length_km=[1.0] * 4, name="basin test")
    assert net.cycle_ids() == [2, 3]
    with pytest.raises(RiskmapInputError, match=r"basin test: the reach network has a cycle through reach_id 2, 3"):
        net.flow_order
    with pytest.raises(RiskmapInputError, match="cycle"):
        net.downstream_ids(1)
    with pytest.raises(RiskmapInputError, match="cycle"):
        net.strahler()
    # upstream sets need no flow order: 4 is an outlet on its own
    assert net.upstream_ids(4) == [4]
    assert RiverNetwork([5], [5]).cycle_ids() == [5]


def test_bad_tables_get_clear_errors():
    with pytest.raises(RiskmapInputError, match="not unique"):
        RiverNetwork([1, 1], [-1, -1])
    with pytest.raises(RiskmapInputError, match="reach 1: downstream_id 9 is not a reach"):
        RiverNetwork([1, 2], [9, -1], missing="raise")
    assert RiverNetwork([1, 2], [9, -1]).outlets.tolist() == [1, 2]  # default: dangling = outlet
    with pytest.raises(RiskmapInputError, match="reach_id 5 does not exist"):
        RiverNetwork([1, 2], [2, -1]).downstream_ids(5)
    with pytest.raises(RiskmapInputError, match="lacks column"):
        RiverNetwork.from_reaches(pd.DataFrame({"reach_id": [1]}))
    with pytest.raises(RiskmapInputError, match=r"row 2, column downstream_id: missing"):
        RiverNetwork.from_reaches(pd.DataFrame({"reach_id": [1, 2], "downstream_id": [2, None]}))
    with pytest.raises(RiskmapInputError, match=r"row 1, column reach_id: 'a' is not an integer id"):
        RiverNetwork.from_reaches(pd.DataFrame({"reach_id": ["a", "2"], "downstream_id": [2, -1]}))


def _walk_strahler(down: np.ndarray) -> np.ndarray:
    """Reference: recursive Strahler order straight from the definition."""
    ups: dict[int, list[int]] = {}
    for i, d in enumerate(down):
        if d >= 0:
            ups.setdefault(int(d), []).append(i)

    def order(i: int) -> int:
        o = sorted((order(u) for u in ups.get(i, [])), reverse=True)
        if not o:
            return 1
        return o[0] + 1 if len(o) > 1 and o[0] == o[1] else o[0]

    return np.array([order(i) for i in range(len(down))])


@pytest.mark.parametrize("seed", range(5))
def test_random_trees_match_direct_walks(seed):
    rng = np.random.default_rng(seed)
    n = 60
    down = np.array([-1] + [int(rng.integers(0, i)) for i in range(1, n)])  # parent earlier: a tree
    perm = rng.permutation(n)  # shuffle the table order
    inv = np.argsort(perm)
    down_p = np.where(down[perm] >= 0, inv[np.maximum(down[perm], 0)], -1)
    length = rng.uniform(1, 10, n)
    net = RiverNetwork.from_positions(down_p, length_km=length)
    assert np.array_equal(net.strahler(), _walk_strahler(down_p))
    assert np.array_equal(strahler_order(down_p), _walk_strahler(down_p))
    for i in range(0, n, 7):
        path = [i]
        while down_p[path[-1]] >= 0:
            path.append(int(down_p[path[-1]]))
        assert net.downstream_ids(i) == path
        assert net.dist_to_outlet()[i] == pytest.approx(length[path[1:]].sum())
        up = [j for j in range(n) if i in net.downstream_ids(j)]
        assert net.upstream_ids(i) == up
        assert net.accumulate(length)[i] == pytest.approx(length[up].sum())


# ------------------------------------------------------------------ bundled basins


@pytest.mark.parametrize("bid", ["drin", "drina", "syr_darya"])
def test_bundled_network_matches_the_built_columns(bid):
    b = load_basin(bid)
    net = b.network
    assert net is b.network and network_of(b) is net  # built once per basin
    r = b.reaches
    assert np.array_equal(net.strahler(), r["order"].to_numpy())
    assert np.allclose(net.dist_to_outlet(), r["dist_to_outlet_km"].to_numpy(), atol=1e-3)
    totals = net.upstream_totals()["length_km"]
    for o in net.outlets:
        assert totals[o] == pytest.approx(r.loc[net.upstream_mask(o), "length_km"].sum())
    assert sum(len(net.upstream_ids(o)) for o in net.outlets) == len(r)


def test_drina_path_reaches_the_sava_outlet():
    b = load_basin("drina")
    net = b.network
    source = int(b.reaches.loc[b.reaches["dist_to_outlet_km"].idxmax(), "reach_id"])
    path = net.downstream_path(source, fraction=1.0)
    assert int(path["reach_id"].iloc[-1]) == int(net.outlets[0])
    assert b.meta["continuation"][0]["water"] == "Sava"  # the Drina outlet flows into the Sava
    row = b.reaches.set_index("reach_id").loc[int(net.outlets[0])]
    assert (row["name"], row["country"]) == ("Drina", "BIH|SRB")
    assert path["end_km"].iloc[-1] == pytest.approx(
        float(b.reaches.set_index("reach_id").loc[source, "dist_to_outlet_km"]), abs=1e-3)
    g = net.path_geometry(source)
    assert g.length > 0 and shapely.get_num_geometries(g) >= 1


def test_naryn_path_order_is_the_basin_path_order():
    b = load_basin("syr_darya")
    naryn = b.reaches[b.reaches["name"] == "Naryn"]
    top = int(naryn.loc[naryn["dist_to_outlet_km"].idxmax(), "reach_id"])
    ids = b.network.downstream_ids(top)
    assert ids == b.downstream_path(top)["reach_id"].tolist()
    labels = b.reaches.set_index("reach_id").loc[ids, "country"].tolist()
    runs = [c for k, c in enumerate(labels) if k == 0 or labels[k - 1] != c]
    assert runs == b.downstream_countries(top)
    flat = flatten_countries(runs)
    assert flat == flatten_countries(b.downstream_countries(top))
    assert flat[:2] == ["KGZ", "UZB"] and flat[-1] == "KAZ"

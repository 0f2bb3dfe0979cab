"""One list per set of columns: the data dictionary describes exactly the columns the
analysis adds, in their order, and the divide buffer, ellipsoid and local projection
have one definition each."""

from __future__ import annotations

import pyproj

import riskmap._geo as geo
import riskmap.export as export
import riskmap.exposure as exposure
import riskmap.hazard as hazard
import riskmap.schema as schema


def test_export_dictionary_describes_exactly_the_assess_columns():
    described = [c[0] for c in export.EXPOSURE_COLUMNS]
    added = [c for c in exposure.EXPOSURE_COLUMNS if c not in schema.column_names()]
    assert described == added


def test_export_dictionary_describes_exactly_the_score_columns():
    described = [c[0] for c in export.HAZARD_COLUMNS] + [c[0] for c in export.HAZARD_DETAIL_COLUMNS]
    assert described == list(hazard.SCORE_OUTPUT_COLUMNS)
    assert [c[0] for c in export.HAZARD_COLUMNS] == list(hazard.HAZARD_COLUMNS)


def test_one_divide_buffer_table():
    from riskmap.databuild.sites import build

    assert build.DIVIDE_BUFFER_KM is schema.DIVIDE_BUFFER_KM
    assert not hasattr(exposure, "DIVIDE_BUFFER_KM")
    assert schema.DIVIDE_BUFFER_KM["exact"] <= schema.DIVIDE_BUFFER_KM["approximate"] <= schema.DIVIDE_BUFFER_KM["town"]


def test_one_ellipsoid_and_local_projection():
    # private on purpose: "one definition" is about the modules' own aliases of the ellipsoid and the
    # local projection (an architecture invariant: no public face)
    from riskmap import rasters, spill
    from riskmap.databuild.sites import dedupe, grand

    assert dedupe._GEOD is geo.GEOD and grand._GEOD is geo.GEOD
    assert isinstance(geo.GEOD, pyproj.Geod)
    # the local helpers are local_aeqd with their documented centre rounding
    assert rasters._aeqd(19.123456, 43.987654) == geo.local_aeqd(19.1235, 43.9877)
    assert spill._aeqd(19.123456, 43.987654) == geo.local_aeqd(19.123456, 43.987654)

"""Build riskmap's data products (``data/``) from the public sources and user elevation models.

Aside from the analysis layers: no analysis module imports this package (tests/test_layers_databuild.py).

Modules
-------
sites
    the site inventory (``data/sites``) from the public source datasets.
reference
    the cartographic reference hydrography (``data/basins``).
natech
    faults and earthquakes near the basins (``data/natech``).
hydrosheds
    a basin from HydroBASINS and HydroRIVERS shapefiles.
dem
    :func:`riskmap.databuild.dem.build_from_dem`: a basin's hydrography (the layers of
    ``data/basins/<name>.gpkg``) derived from a digital elevation model with pyflwdir.
"""

"""Builders of riskmap's bundled and user data products (hydrography from elevation, ...).

Modules
-------
dem
    :func:`riskmap.databuild.dem.build_from_dem`: a basin's hydrography (the layers of
    ``data/basins/<name>.gpkg``) derived from a digital elevation model with pyflwdir.
"""

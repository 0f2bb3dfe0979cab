"""Map symbols: marker shapes of the site categories, colours of the classes, the basemap palette.

Shared by :mod:`riskmap.map_sites` (site features and colour classes) and
:mod:`riskmap.map_legend`; :func:`riskmap.maps.basin_map` hands the shapes and
the palette to the map's JavaScript as data.
"""

from __future__ import annotations

from riskmap.i18n import N_

#: Coordinate precisions drawn hollow and dashed, with a note in the popup.
APPROXIMATE_PRECISIONS = ("town", "estimated")

#: SVG path (viewBox 0 0 20 20) of each marker shape.
SHAPE_PATHS: dict[str, str] = {
    "circle": "M10 2.5a7.5 7.5 0 1 0 0.001 0Z",
    "square": "M3.5 3.5H16.5V16.5H3.5Z",
    "triangle": "M10 2L18.5 17H1.5Z",
    "triangle_down": "M1.5 3H18.5L10 18Z",
    "diamond": "M10 1.5L18.5 10L10 18.5L1.5 10Z",
    "pentagon": "M10 1.8L18.2 7.8L15.1 17.5H4.9L1.8 7.8Z",
    "hexagon": "M5.5 2.2H14.5L19 10L14.5 17.8H5.5L1 10Z",
    "star": "M10 1.2L12.5 7.3L19 7.6L13.9 11.7L15.7 18.2L10 14.5L4.3 18.2L6.1 11.7L1 7.6L7.5 7.3Z",
    "cross": "M7 2H13V7H18V13H13V18H7V13H2V7H7Z",
    "bar": "M2 6.5H18V13.5H2Z",
    "hourglass": "M2.5 2H17.5L11.2 10L17.5 18H2.5L8.8 10Z",
    "drop": "M10 1.2C10 1.2 16.8 9 16.8 12.4A6.8 6.8 0 0 1 3.2 12.4C3.2 9 10 1.2 10 1.2Z",
    "trapezoid": "M1.2 4H18.8L14.2 16.5H5.8Z",
    "arch": "M2 17.5V10A8 8 0 0 1 18 10V17.5Z",
}

#: Marker shape of each site category.
CATEGORY_SHAPES: dict[str, str] = {
    "tailings_metal": "triangle",
    "tailings_uranium": "star",
    "tailings_red_mud": "triangle_down",
    "tailings_ash": "trapezoid",
    "mine": "diamond",
    "smelter_refinery": "square",
    "chemical_plant": "hexagon",
    "oil_refinery_depot": "pentagon",
    "oil_gas_extraction": "drop",
    "pipeline": "bar",
    "thermal_power_plant": "hourglass",
    "dam_reservoir": "arch",
    "landfill": "cross",
    "other": "circle",
}

_SHAPE_NAMES = tuple(SHAPE_PATHS)

_UNKNOWN_COLOUR = "#9e9e9e"
_DEFAULT_COLOUR = "#6a3d9a"

#: Colours of exposure classes (lower-cased, known words); others get _FALLBACK colours.
_EXPOSURE_COLOURS: dict[str, str] = {
    "very high": "#67000d",
    "critical": "#67000d",
    "high": "#d7301f",
    "transboundary": "#d7301f",
    "medium": "#fc8d59",
    "moderate": "#fc8d59",
    "border": "#fc8d59",
    "low": "#fdcc8a",
    "national": "#fdcc8a",
    "local": "#fef0d9",
    "very low": "#fef0d9",
    "none": "#c7e9c0",
    "not exposed": "#c7e9c0",
    "outside basin": "#d9d9d9",
    "outside": "#d9d9d9",
    "unknown": _UNKNOWN_COLOUR,
}
_FALLBACK = ("#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4", "#b15928")

#: Hazard priority bands (share of the scored sites on the map, from the top).
_PRIORITY_BANDS: tuple[tuple[str, float, str], ...] = (
    (N_("top 10 %"), 0.10, "#67000d"),
    (N_("10-25 %"), 0.25, "#d7301f"),
    (N_("25-50 %"), 0.50, "#fc8d59"),
    (N_("lower 50 %"), 1.0, "#fdcc8a"),
)

_STYLE = {
    "sea": "#cfe1f0",
    "outside": "#e9e9e9",
    "land": "#f4f1ea",
    "landOther": "#e6e3dc",
    "water": "#3a87c8",
    "lake": "#a6cbe8",
    "borderRiver": "#c51b8a",
}

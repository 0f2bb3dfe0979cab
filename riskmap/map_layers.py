"""Former home of the basin map's data; its names now live in modules named for their job.

- :mod:`riskmap.map_style`: marker shapes, class colours, the basemap palette;
- :mod:`riskmap.map_basemap`: basemap and context layers, downstream paths, bounds;
- :mod:`riskmap.map_sites`: site markers, colour classes, popup columns and rows, filters;
- :mod:`riskmap.map_legend`: the legend;
- :mod:`riskmap.map_climate`: the climate scenario layers.

The public names (and the private ones tests and documents use) stay importable from here.
"""

from __future__ import annotations

from riskmap.map_assets import (  # noqa: F401 - re-exported
    VENDORED_ASSETS,
    ASSETS_DIR,
    external_references,
    inline_assets,
)
from riskmap.map_basemap import (  # noqa: F401 - re-exported
    _basemap_data,
    _bounds,
    _context_data,
    _downstream_table,
    CONTEXT_MARGIN_DEG,
)
from riskmap.map_climate import CLIMATE_CLASS_COLOURS, climate_layers  # noqa: F401 - re-exported
from riskmap.map_legend import _legend_html  # noqa: F401 - re-exported
from riskmap.map_sites import (  # noqa: F401 - re-exported
    _site_data,
    _value_name,
    FILTERS,
    POPUP_FIELDS,
    POPUP_GROUPS,
    POPUP_ROWS,
)
from riskmap.map_style import (  # noqa: F401 - re-exported
    _SHAPE_NAMES,
    _STYLE,
    APPROXIMATE_PRECISIONS,
    CATEGORY_SHAPES,
    SHAPE_PATHS,
)

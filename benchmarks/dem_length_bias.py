"""River-length bias of the bundled networks against published river lengths (issue 15 item 4).

Prints, for each stretch of ``riskmap/databuild/river_lengths.toml`` (published length and its
citation), the length of the same stretch on the raw bundled network (the data build's line
lengths, before the correction), the network kind (cartographic / DEM 15" / mixed) and
published / network, then the correction factor per kind with its spread (median, min, max of the
used stretches). ``--write`` stores them in ``riskmap/params/river_length.toml``
(:mod:`riskmap.river_length` applies them when a basin is loaded).

Run::

    python benchmarks/dem_length_bias.py [--write]

The earlier comparison of the cartographic Syr Darya with the DEM one (towns on the main stem,
Naryn - Shardara: cartographic / DEM = 0.87) is in docs/hydrography.md; the bundled Syr Darya is now
the DEM build, so it cannot be repeated from the bundled data alone.
"""

from __future__ import annotations

import sys

from riskmap.databuild.length_bias import main

if __name__ == "__main__":
    main(sys.argv[1:])

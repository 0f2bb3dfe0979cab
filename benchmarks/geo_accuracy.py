"""Geography accuracy figures of the bundled hydrography (issue 15 "Targets").

Runs ``riskmap.exposure.assess`` on the real places of ``tests/geo_places.csv`` and prints basin
membership right %, downstream order right %, river km within range %, the median error against
the range midpoint, the bundled outline areas against the published ranges, the TFDD overlap
(validation only) and every failing check::

    PYTHONPATH=. python benchmarks/geo_accuracy.py [--json figures.json]
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"

if __name__ == "__main__":
    sys.path.insert(0, str(TESTS))  # the test module imports the places table from tests/fixtures/
    runpy.run_path(str(TESTS / "test_geography_places.py"), run_name="__main__")

"""Regenerate the worked spill scenarios of docs/spill.md (prints Markdown).

Run: ``python docs/scripts/worked_spills.py > /tmp/worked.md`` and paste the
output below the caveats of the "Worked scenarios" section.
"""

from __future__ import annotations

import numpy as np

from riskmap.spill import locate_release, simulate_spill

#: (title, inventory site_id): the release enters the reach riskmap.exposure.assess reports
CASES = [("Mailuu-Suu uranium tailings", "lit-mailuu-suu-uranium-tailings-and-waste-dumps"),
         ("Pljevlja power station and ash landfill", "gem-gcpt-L100000103049"),
         ("KAP Podgorica red mud basins", "lit-kap-aluminium-plant-red-mud-basins-podgorica"),
         ("Stolice antimony mine tailings (Jadar, Krupanj)", "lit-stolice-antimony-mine-tailings-kostajnik-krupanj"),
         ("Almalyk Mining and Metallurgical Complex", "lit-almalyk-mining-and-metallurgical-complex-ammc")]


def _f(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"


def main() -> None:
    for title, site_id in CASES:
        site, basin = locate_release(site_id)
        res = simulate_spill(site, "10t", basin=basin)
        p = res.params
        print(f"### {title}, basin {basin}\n")
        print(f"`riskmap spill {site_id} --mass 10t` — release enters reach "
              f"{p['start_reach']}, {p['snap_km']:.1f} km from the site ({site.get('drainage_by', 'snap')}).\n")
        print("| checkpoint | kind | km (overland) | leading edge h (range) | peak h | peak mg/L (range) "
              "| h ≥ 0.01 mg/L | country | Q m³/s (basis) | volume | population |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        notes = []
        for _, r in res.checkpoints.iterrows():
            vol = "" if not isinstance(r.volume_source, str) else (
                f"{r.volume_m3 / 1e6:,.0f} hm³ ({r.volume_source})" if np.isfinite(r.volume_m3) else r.volume_source)
            cells = [r.checkpoint, r.kind, f"{r.river_km:.1f} ({r.overland_km:.1f})",
                     f"{_f(r.leading_edge_h)} ({_f(r.leading_edge_h_low)}–{_f(r.leading_edge_h_high)})",
                     _f(r.peak_time_h), f"{_f(r.peak_mg_l)} ({_f(r.peak_mg_l_low)}–{_f(r.peak_mg_l_high)})",
                     _f(r.above_threshold_h), r.country, f"{r.discharge_m3s:.0f} ({r.discharge_basis})", vol,
                     "" if not np.isfinite(r.population) else f"{r.population:,.0f}"]
            print("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
            if isinstance(r.note, str) and r.note and r.note not in notes:
                notes.append(r.note)
        print()
        if notes:  # the outlet's note holds every lake passed and the share of mass lost on the way
            print(f"*Note at the last checkpoint:* {notes[-1]}\n")
        for a in res.assumptions:
            if a.startswith(("discharge station", "stations of", "lakes/reservoirs", "the release point",
                             "STOPPED", "downstream population", "underground karst")):
                print(f"- {a}")
        for model in ("jobson-max", "ade"):
            alt = simulate_spill(site, "10t", basin=basin, model=model)
            o = alt.checkpoints.iloc[-1]
            print(f"- at *outlet* with `{model}`: peak {_f(o.peak_time_h)} h, {_f(o.peak_mg_l)} mg/L")
        print()


if __name__ == "__main__":
    main()

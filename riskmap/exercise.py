"""Tabletop-exercise packs from a spill scenario (``riskmap exercise``).

From one site's scenario card (:func:`riskmap.contingency.scenario_card`)
:func:`build_exercise` writes

- a **facilitator pack** (HTML): the timed list of injects in wall-clock time
  (detection at the site, first report, verification and notification, the
  arrival of the leading edge at each checkpoint), the expected decisions per
  country and the model results behind each inject;
- a **participant pack** (HTML): the scenario and the same injects in the same
  order with the decisions to take, *without* any model result (no arrival
  time, concentration, distance or duration from the spill model);
- an **evaluation sheet** (HTML): per country and SOP step, the target (time
  available) and blanks for the time achieved and comments;
- ``injects.csv``: the facilitator's inject table.

Everything is deterministic from the inputs (site, start time, parameters,
contacts, data): no generation time is written, so the same inputs give
byte-identical files and exercises can be repeated and compared.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskmap._errors import RiskmapInputError

__all__ = ["DEFAULT_START", "ExercisePack", "Inject", "build_exercise", "exercise_injects", "parse_start"]

#: Default start of the exercise scenario (wall clock, local time as given).
DEFAULT_START = "2027-05-12 06:00"
_CLOCK = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Inject:
    """One timed inject of an exercise.

    Attributes
    ----------
    seq : int
        Order (1-based).
    t_h : float
        Hours after the release (from the spill model for arrivals).
    clock : str
        Wall-clock time ``YYYY-MM-DD HH:MM`` (start + ``t_h``, to the minute).
    kind : str
        ``detection``, ``first report``, ``notification``, ``arrival``.
    country : str
        ISO3 code (or border pair) of the country the inject is addressed to.
    title : str
        What happens, without model results (participant text).
    model : str
        The model results behind the inject (facilitator only; "" when none).
    decisions : list of (country, decision)
        Expected decisions per country.
    """

    seq: int
    t_h: float
    clock: str
    kind: str
    country: str
    title: str
    model: str
    decisions: tuple[tuple[str, str], ...] = field(default=())


def parse_start(value: str | _dt.datetime | None) -> _dt.datetime:
    """The exercise start (``"2027-05-12 06:00"``) as a naive datetime (local time as given).

    Examples
    --------
    >>> parse_start("2027-05-12 06:00")
    datetime.datetime(2027, 5, 12, 6, 0)
    """
    if value is None:
        value = DEFAULT_START
    if isinstance(value, _dt.datetime):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    m = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})\s*", str(value))
    if not m:
        raise RiskmapInputError(f"--start: cannot read {value!r}; write e.g. \"{DEFAULT_START}\" (YYYY-MM-DD HH:MM)")
    try:
        return _dt.datetime.strptime(f"{m.group(1)} {int(m.group(2)):02d}:{m.group(3)}", _CLOCK)
    except ValueError as e:
        raise RiskmapInputError(f"--start: {value!r} is not a valid date and time ({e})") from None


def clock_at(start: _dt.datetime, hours: float) -> str:
    """Wall-clock time ``hours`` after ``start``, to the minute (``"unknown"`` when not finite)."""
    if hours is None or not math.isfinite(float(hours)):
        return "unknown"
    return (start + _dt.timedelta(minutes=round(float(hours) * 60.0))).strftime(_CLOCK)


def _parts(country: Any) -> list[str]:
    return [p for p in str(country).split("|") if p and p.lower() not in ("nan", "none")]


def _arrival_decisions(kind: str, name: str, countries: list[str], population: Any) -> tuple[tuple[str, str], ...]:
    if kind == "border":
        what = (f"sample at the {name} crossing and share results with the upstream country; "
                "alert water users downstream")
    elif kind in ("reservoir", "lake"):
        what = f"decide on the operation of {name} (hold or release) and sample at its outflow"
    elif kind == "town":
        pop = "" if population is None or pd.isna(population) else f" (population {float(population):,.0f})"
        what = f"decide on drinking-water and irrigation intakes at {name}{pop}; inform the public"
    elif kind == "outlet":
        what = "inform the next water body's authorities; agree the all-clear criteria"
    else:
        what = f"sample at {name}"
    return tuple((c, what) for c in countries)


def exercise_injects(card: Any, start: _dt.datetime, params: Mapping[str, Any]) -> list[Inject]:
    """The timed injects of a scenario card, in time order (ties in flow order).

    Arrival injects are timed at the spill model's central leading-edge arrival
    (``leading_edge_h``) of each checkpoint; detection is at the release,
    the first report and the notification decisions at the exercise design
    times of ``params["exercise"]``.
    """
    ex = params["exercise"]
    origin = str(card.site["country"])
    name = str(card.site["name"])
    raw: list[tuple[float, int, str, str, str, str, tuple[tuple[str, str], ...]]] = []
    raw.append((0.0, 0, "detection", origin, f"Release detected at {name}", "",
                ((origin, "operator stops the release where possible and alerts the national authority"),)))
    fr = float(ex["first_report_h"])
    raw.append((fr, 1, "first report", origin, f"First report from the operator of {name} to the national authority",
                "", ((origin, "verify the release (site visit, first samples); activate the national plan"),)))
    vh = float(ex["verification_h"])
    for i, n in enumerate(card.notifications.itertuples(index=False)):
        model = (f"time available: {_num(n.warning_h_fast)} h (fast), {_num(n.warning_h)} h (central) "
                 f"to {n.checkpoint}") if pd.notna(n.warning_h) else f"time available: unknown ({n.checkpoint})"
        raw.append((vh, 2 + i, "notification", str(n.notified),
                    f"Release confirmed upstream: {n.notified} must be notified",
                    model, ((origin, f"notify {n.notified} through the UNECE IAN point of contact and the basin body"),
                            (str(n.notified), "acknowledge; alert intakes and water users; prepare border sampling"))))
    base = 2 + len(card.notifications)
    for j, r in enumerate(card.timeline.itertuples(index=False)):
        if pd.isna(r.leading_edge_h) or not math.isfinite(float(r.leading_edge_h)):
            continue  # not reached in the model (the facilitator pack shows the card's timeline)
        model = (f"leading edge {_num(r.leading_edge_h)} h (fast {_num(r.leading_edge_h_fast)} h), "
                 f"peak {_num(r.peak_time_h)} h at {_mg(r.peak_mg_l)} mg/L "
                 f"(range {_mg(r.peak_mg_l_low)}–{_mg(r.peak_mg_l_high)}), river km {_num(r.river_km)}")
        raw.append((float(r.leading_edge_h), base + j, "arrival", str(r.country),
                    f"Pollution arriving at {r.checkpoint} ({r.kind})", model,
                    _arrival_decisions(str(r.kind), str(r.checkpoint), _parts(r.country), r.population)))
    raw.sort(key=lambda x: (x[0], x[1]))
    return [Inject(k + 1, t, clock_at(start, t), kind, c, title, model, dec)
            for k, (t, _o, kind, c, title, model, dec) in enumerate(raw)]


def _num(v: Any) -> str:
    return "unknown" if v is None or pd.isna(v) else f"{float(v):,.1f}"


def _mg(v: Any) -> str:
    return "unknown" if v is None or pd.isna(v) else f"{float(v):.3g}"


@dataclass
class ExercisePack:
    """What :func:`build_exercise` produced: the card, the injects and the files written."""

    card: Any
    start: _dt.datetime
    injects: list[Inject]
    files: list[Path] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The inject table (facilitator view)."""
        return pd.DataFrame([{"seq": i.seq, "clock": i.clock, "t_h": i.t_h, "kind": i.kind, "country": i.country,
                              "inject": i.title, "model": i.model,
                              "expected_decisions": "; ".join(f"{c}: {d}" for c, d in i.decisions)}
                             for i in self.injects])


def _context(pack: ExercisePack, contacts: pd.DataFrame, params: Mapping[str, Any]) -> dict[str, Any]:
    from riskmap.contingency import SOP_STEPS, _card_context
    from riskmap.report_sections import _version, country_label

    card = _card_context(pack.card, contacts)
    inj = [{"seq": i.seq, "clock": i.clock, "t": _num(i.t_h), "kind": i.kind, "country": country_label(i.country),
            "title": i.title, "model": i.model,
            "decisions": [{"country": country_label(c), "what": d} for c, d in i.decisions]} for i in pack.injects]
    countries = list(dict.fromkeys([str(pack.card.site["country"])]
                                   + [str(n) for n in pack.card.notifications["notified"]]))
    targets = {str(n.notified): f"{_num(n.warning_h_fast)} h (fast) / {_num(n.warning_h)} h (central)"
               for n in pack.card.notifications.itertuples(index=False)}
    return {"card": card, "injects": inj, "start": pack.start.strftime(_CLOCK), "site": card["site"],
            "mass": card["mass"], "countries": [{"code": c, "label": country_label(c),
                                                 "target": targets.get(c, "")} for c in countries],
            "sop": [{"step": s, "what": w} for s, w in SOP_STEPS], "version": _version(),
            "params_label": params["meta"]["label"]}


def build_exercise(basin: str, site_id: str, out_dir: str | Path, *, start: str | _dt.datetime | None = None,
                   params: str | Path | Mapping | None = None, contacts: str | Path | None = None,
                   inventory: Any = None, data_dir: str | Path | None = None) -> ExercisePack:
    """Write a tabletop-exercise pack for a release at ``site_id``.

    Parameters
    ----------
    basin : str
        Basin id or name.
    site_id : str
        Inventory site id.
    out_dir : path
        Output folder: ``<site>_exercise_facilitator.html``, ``<site>_exercise_participant.html``,
        ``<site>_exercise_evaluation.html``, ``<site>_exercise_injects.csv``.
    start : str or datetime, optional
        Wall-clock time of the release (default ``"2027-05-12 06:00"``, local time as given).
    params, contacts, inventory, data_dir : optional
        As in :func:`riskmap.contingency.build_contingency`.

    Returns
    -------
    ExercisePack

    Examples
    --------
    >>> pack = build_exercise("syr_darya", "lit-mailuu-suu-uranium-tailings-and-waste-dumps", "out/ex")  # doctest: +SKIP
    """
    from riskmap.basins import resolve_basin
    from riskmap.contingency import (
        _csv_text,
        _environment,
        load_contingency_params,
        read_contacts,
        scenario_card,
        select_sites,
    )
    from riskmap.hydrography import load_basin
    from riskmap.io import atomic_write_text
    from riskmap.pipeline import prepare, read_step

    t0 = parse_start(start)
    basin_id = resolve_basin(basin)
    par = load_contingency_params(params)
    cont = read_contacts(contacts)
    raw = read_step(inventory, data_dir=data_dir).sites
    prepared = prepare(raw, basins=[basin_id], data_dir=data_dir).sites
    site = select_sites(prepared, basin_id, [site_id], 1).iloc[0]
    if str(site.get("basin")) != basin_id:
        raise RiskmapInputError(f"--site {site_id}: the site lies in basin {site.get('basin')!r}, not {basin_id!r}")
    b = load_basin(basin_id, data_dir) if data_dir is not None else load_basin(basin_id)
    card = scenario_card(site, basin_id, par, inventory=raw, basin=b, draw=False)
    pack = ExercisePack(card, t0, exercise_injects(card, t0, par))
    ctx = _context(pack, cont, par)
    env = _environment()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", str(site_id))[:80]
    for which in ("facilitator", "participant", "evaluation"):
        html = env.get_template(f"contingency_exercise_{which}.html.j2").render(**ctx)
        pack.files.append(atomic_write_text(out / f"{stem}_exercise_{which}.html", html))
    pack.files.append(atomic_write_text(out / f"{stem}_exercise_injects.csv", _csv_text(pack.table())))
    return pack

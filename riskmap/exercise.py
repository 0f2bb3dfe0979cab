"""Tabletop-exercise packs from a spill scenario (``riskmap exercise``).

From one site's scenario card (:func:`riskmap.contingency_cards.scenario_card`)
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

Language (``lang="ru"``, :func:`riskmap.i18n.use_lang`): the three HTML documents
and the human text of ``injects.csv`` (``inject``, ``model``,
``expected_decisions``) are written in the output language; the CSV keeps its
English column names and the machine codes of ``kind`` (``detection``, ``first
report``, ``notification``, ``arrival``) and ``country`` (ISO3), so that packs in
either language are read the same way. Clock times are ``YYYY-MM-DD HH:MM`` in
both languages (unambiguous in a timed exercise).

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
from riskmap.i18n import _, current_lang, use_lang

__all__ = ["DEFAULT_START", "ExercisePack", "Inject", "build_exercise", "exercise_injects", "exercise_outputs",
           "parse_start"]

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


#: Years accepted for ``--start``: the injects' clock (start + hours, weeks at most) stays a valid date.
_START_YEARS = (1900, 2999)


def parse_start(value: str | _dt.datetime | None) -> _dt.datetime:
    """The exercise start (``"2027-05-12 06:00"``) as a naive datetime (local time as given).

    Examples
    --------
    >>> parse_start("2027-05-12 06:00")
    datetime.datetime(2027, 5, 12, 6, 0)
    """
    if value is None:
        value = DEFAULT_START
    start = (value.replace(second=0, microsecond=0, tzinfo=None) if isinstance(value, _dt.datetime)
             else _read_start(str(value)))
    if not _START_YEARS[0] <= start.year <= _START_YEARS[1]:
        raise RiskmapInputError(f"--start: {str(value)!r} is out of range; give a year from {_START_YEARS[0]} "
                                f"to {_START_YEARS[1]} (the exercise clock runs on from it)")
    return start


def _read_start(value: str) -> _dt.datetime:
    """``YYYY-MM-DD HH:MM`` as a datetime, or a :class:`RiskmapInputError` naming ``--start``."""
    m = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})\s*", value)
    if not m:
        raise RiskmapInputError(f"--start: cannot read {value!r}; write e.g. \"{DEFAULT_START}\" (YYYY-MM-DD HH:MM)")
    try:
        return _dt.datetime.strptime(f"{m.group(1)} {int(m.group(2)):02d}:{m.group(3)}", _CLOCK)
    except ValueError as e:
        raise RiskmapInputError(f"--start: {value!r} is not a valid date and time ({e})") from None


def clock_at(start: _dt.datetime, hours: float) -> str:
    """Wall-clock time ``hours`` after ``start``, to the minute (``"unknown"`` when not finite)."""
    if hours is None or not math.isfinite(float(hours)):
        from riskmap.contingency_text import _unknown

        return _unknown()
    return (start + _dt.timedelta(minutes=round(float(hours) * 60.0))).strftime(_CLOCK)


def _parts(country: Any) -> list[str]:
    return [p for p in str(country).split("|") if p and p.lower() not in ("nan", "none")]


def _arrival_decisions(kind: str, name: str, countries: list[str], population: Any) -> tuple[tuple[str, str], ...]:
    from riskmap.contingency_text import _loc

    if kind == "border":
        what = _("sample at the {place} crossing and share results with the upstream country; "
                 "alert water users downstream").format(place=name)
    elif kind in ("reservoir", "lake"):
        what = _("decide on the operation of {place} (hold or release) and sample at its outflow").format(
            place=name)
    elif kind == "town":
        if population is None or pd.isna(population):
            what = _("decide on drinking-water and irrigation intakes at {town}; inform the public").format(town=name)
        else:
            what = _("decide on drinking-water and irrigation intakes at {town} (population {population}); "
                     "inform the public").format(town=name, population=_loc(f"{float(population):,.0f}"))
    elif kind == "outlet":
        what = _("inform the next water body's authorities; agree the all-clear criteria")
    else:
        what = _("sample at {place}").format(place=name)
    return tuple((c, what) for c in countries)


def exercise_injects(card: Any, start: _dt.datetime, params: Mapping[str, Any]) -> list[Inject]:
    """The timed injects of a scenario card, in time order (ties in flow order).

    Arrival injects are timed at the spill model's central leading-edge arrival
    (``leading_edge_h``) of each checkpoint; detection is at the release,
    the first report and the notification decisions at the exercise design
    times of ``params["exercise"]``.
    """
    from riskmap.contingency_text import _code_or_label, checkpoint_label, kind_label

    ex = params["exercise"]
    origin = str(card.site["country"])
    name = str(card.site["name"])
    raw: list[tuple[float, int, str, str, str, str, tuple[tuple[str, str], ...]]] = []
    raw.append((0.0, 0, "detection", origin, _("Release detected at {site}").format(site=name), "",
                ((origin, _("operator stops the release where possible and alerts the national authority")),)))
    fr = float(ex["first_report_h"])
    raw.append((fr, 1, "first report", origin,
                _("First report from the operator of {site} to the national authority").format(site=name),
                "", ((origin, _("verify the release (site visit, first samples); activate the national plan")),)))
    vh = float(ex["verification_h"])
    for i, n in enumerate(card.notifications.itertuples(index=False)):
        at = checkpoint_label(n.checkpoint)
        model = (_("time available: {fast} h (fast), {central} h (central) to {place}").format(
                     fast=_num(n.warning_h_fast), central=_num(n.warning_h), place=at)
                 if pd.notna(n.warning_h) else _("time available: unknown ({place})").format(place=at))
        who = _code_or_label(n.notified)
        raw.append((vh, 2 + i, "notification", str(n.notified),
                    _("Release confirmed upstream: {country} must be notified").format(country=who),
                    model, ((origin, _("notify {country} through the UNECE IAN point of contact and the basin "
                                       "body").format(country=who)),
                            (str(n.notified), _("acknowledge; alert intakes and water users; prepare border "
                                                "sampling")))))
    base = 2 + len(card.notifications)
    for j, r in enumerate(card.timeline.itertuples(index=False)):
        if pd.isna(r.leading_edge_h) or not math.isfinite(float(r.leading_edge_h)):
            continue  # not reached in the model (the facilitator pack shows the card's timeline)
        model = _("leading edge {lead} h (fast {fast} h), peak {peak} h at {conc} mg/L (range {low}–{high}), "
                  "river km {km}").format(lead=_num(r.leading_edge_h), fast=_num(r.leading_edge_h_fast),
                                          peak=_num(r.peak_time_h), conc=_mg(r.peak_mg_l), low=_mg(r.peak_mg_l_low),
                                          high=_mg(r.peak_mg_l_high), km=_num(r.river_km))
        where = checkpoint_label(r.checkpoint, r.kind, r.country)
        raw.append((float(r.leading_edge_h), base + j, "arrival", str(r.country),
                    _("Pollution arriving at {place} ({kind})").format(place=where, kind=kind_label(r.kind)),
                    model, _arrival_decisions(str(r.kind), where, _parts(r.country), r.population)))
    raw.sort(key=lambda x: (x[0], x[1]))
    return [Inject(k + 1, t, clock_at(start, t), kind, c, title, model, dec)
            for k, (t, _o, kind, c, title, model, dec) in enumerate(raw)]


def _num(v: Any) -> str:
    from riskmap.contingency_text import decimal_text

    return decimal_text(None if v is None or pd.isna(v) else float(v))


def _mg(v: Any) -> str:
    from riskmap.contingency_text import _mg as mg

    return mg(None if v is None or pd.isna(v) else float(v))


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
    from riskmap.contingency_annex import _card_context, sop_context
    from riskmap.contingency_text import _kosovo_note, date_time_text
    from riskmap.i18n import country_label
    from riskmap.report_sections import _version

    card = _card_context(pack.card, contacts)
    inj = [{"seq": i.seq, "clock": i.clock, "t": _num(i.t_h), "kind": i.kind, "country": country_label(i.country),
            "title": i.title, "model": i.model,
            "decisions": [{"country": country_label(c), "what": d} for c, d in i.decisions]} for i in pack.injects]
    countries = list(dict.fromkeys([str(pack.card.site["country"])]
                                   + [str(n) for n in pack.card.notifications["notified"]]))
    targets = {str(n.notified): _("{fast} h (fast) / {central} h (central)").format(
                   fast=_num(n.warning_h_fast), central=_num(n.warning_h))
               for n in pack.card.notifications.itertuples(index=False)}
    codes = {p for c in countries for p in _parts(c)} | {p for i in pack.injects for p in _parts(i.country)}
    return {"card": card, "injects": inj, "start": date_time_text(pack.start), "site": card["site"],
            "mass": card["mass"], "countries": [{"code": c, "label": country_label(c),
                                                 "target": targets.get(c, "")} for c in countries],
            "sop": sop_context(), "version": _version(),
            "params_label": _(params["meta"]["label"]), "lang": current_lang(), "kosovo_note": _kosovo_note(codes)}


def _file_stem(site_id: str) -> str:
    """The site id as it starts the pack's file names (letters, digits, ``._-``; at most 80)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(site_id))[:80]


def exercise_outputs(site_id: str, out_dir: str | Path) -> list[Path]:
    """Every file :func:`build_exercise` writes for ``site_id`` in ``out_dir`` (checked against the inputs).

    Examples
    --------
    >>> [p.name for p in exercise_outputs("a b", "out")][-1]
    'a-b_exercise_injects.csv'
    """
    stem = _file_stem(site_id)
    return [Path(out_dir) / f"{stem}_exercise_{which}.html" for which in ("facilitator", "participant", "evaluation")
            ] + [Path(out_dir) / f"{stem}_exercise_injects.csv"]


def build_exercise(basin: str, site_id: str, out_dir: str | Path, *, start: str | _dt.datetime | None = None,
                   params: str | Path | Mapping | None = None, contacts: str | Path | None = None,
                   inventory: Any = None, data_dir: str | Path | None = None,
                   lang: str | None = None) -> ExercisePack:
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
    lang : str, optional
        Output language (``"en"``, ``"ru"``; default the current language): the
        documents and the human text of the inject table (see the module docstring).

    Returns
    -------
    ExercisePack

    Examples
    --------
    >>> pack = build_exercise("syr_darya", "lit-mailuu-suu-uranium-tailings-and-waste-dumps", "out/ex")  # doctest: +SKIP
    """
    with use_lang(lang):
        return _build_exercise(basin, site_id, out_dir, start=start, params=params, contacts=contacts,
                               inventory=inventory, data_dir=data_dir)


def _build_exercise(basin: str, site_id: str, out_dir: str | Path, *, start: Any, params: Any, contacts: Any,
                    inventory: Any, data_dir: Any) -> ExercisePack:
    from riskmap.basins import resolve_basin
    from riskmap.contingency import _csv_text
    from riskmap.contingency_annex import _environment
    from riskmap.contingency_cards import scenario_card
    from riskmap.contingency_params import load_contingency_params, read_contacts
    from riskmap.contingency_scenario import basin_sites, select_sites
    from riskmap.hydrography import load_basin
    from riskmap.io import atomic_write_text
    from riskmap.pipeline import read_step

    t0 = parse_start(start)
    basin_id = resolve_basin(basin)
    par = load_contingency_params(params)
    cont = read_contacts(contacts)
    raw = read_step(inventory, data_dir=data_dir).sites
    prepared = basin_sites(raw, basin_id, data_dir)
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
    stem = _file_stem(site_id)
    for which in ("facilitator", "participant", "evaluation"):
        html = env.get_template(f"contingency_exercise_{which}.html.j2").render(**ctx)
        pack.files.append(atomic_write_text(out / f"{stem}_exercise_{which}.html", html))
    pack.files.append(atomic_write_text(out / f"{stem}_exercise_injects.csv", _csv_text(pack.table())))
    return pack

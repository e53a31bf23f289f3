"""What each page shows, built from a source through the per-version cache: a context for its
template (figures, tables, notes) and, for ``/csv/<key>.csv``, any of its tables by key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from dashboard import figures
from dashboard.cache import PerVersion
from dashboard.figures import Cell, Figure, Table
from dashboard.sources import NotAvailable, Source

Gettext = Callable[[str], str]
STATUSES = ("claimed", "confirmed", "rejected", "withdrawn", "all")


def _read(cache: PerVersion, key: str, read: Callable[[], Any]) -> Any:
    """A cached read; ``NotAvailable`` (this role may not read it) is kept as the value, so the page says so."""
    def attempt() -> Any:
        try:
            return read()
        except NotAvailable as exc:
            return exc
    return cache.get(("read", key), attempt)


def _or_note(value: Any, make: Callable[[Any], Any]) -> Any:
    return value if isinstance(value, NotAvailable) else make(value)


def overview(source: Source, cache: PerVersion, lang: str, _: Gettext) -> dict[str, Any]:
    by_year = _read(cache, "rates:cohort", lambda: source.rates("cohort"))
    by_provider = _read(cache, "rates:provider", lambda: source.rates("provider"))
    counted = _read(cache, "claim-counts", source.claim_counts)
    health = _read(cache, "health", source.health)
    statuses = Table("claims-per-status", _("Claims per status"), [_("status"), _("claims")])
    if not isinstance(counted, NotAvailable):
        for status, count in sorted((s, n) for s, n in counted.items() if n):
            statuses.rows.append([Cell(_(status), href=f"/claims?status={status}"), Cell(str(count), numeric=True)])
    return {"title": _("Overzicht"), "health": health, "checklist": source.checklist(),
            "by_year": _or_note(by_year, lambda r: figures.outflow_by_year(r, _)),
            "by_provider": _or_note(by_provider, lambda r: figures.outflow_by_provider(r, _)),
            "counts": _or_note(by_year, lambda r: figures.outcome_counts(r, _)),
            "statuses": statuses}


def claims_page(source: Source, cache: PerVersion, lang: str, _: Gettext, status: str = "claimed", provider: str = "",
                flag: str = "", period: str = "") -> dict[str, Any]:
    status = status if status in STATUSES else "claimed"
    wanted = None if status == "all" else status  # the API filters: the queue reads only its own claims
    claims = _read(cache, f"claims:{status}", lambda: source.claims(wanted))
    if isinstance(claims, NotAvailable):
        return {"title": _("Claims"), "note": claims, "table": None, "filters": {}}
    chosen = figures.select_claims(claims, status, provider, flag, period)
    return {"title": _("Claims"), "note": None, "table": figures.claims_table(chosen, _), "claims": chosen,
            "filters": {"status": status, "provider": provider, "flag": flag, "period": period},
            "providers": sorted({c["provider"] for c in claims}),
            "flag_names": sorted({f["name"] for c in claims for f in c.get("flags") or []}),
            "statuses": STATUSES}


def payments_page(source: Source, cache: PerVersion, lang: str, _: Gettext) -> dict[str, Any]:
    found = _read(cache, "payments", source.payments)
    return {"title": _("Betalingen"), "figure": _or_note(found, lambda f: figures.payments_figure(f, _)),
            "peildatum": None if isinstance(found, NotAvailable) else found["peildatum"]}


def flags_page(source: Source, cache: PerVersion, lang: str, _: Gettext) -> dict[str, Any]:
    found = _read(cache, "flags", source.flags)
    return {"title": _("Signaleringen"), "figure": _or_note(found, lambda f: figures.flags_figure(f, _))}


def drilldown(source: Source, cache: PerVersion, lang: str, _: Gettext, client_ref: str, claim_id: str = "",
              trajectory_id: str = "") -> dict[str, Any]:
    """A claim's or trajectory's entries in log order, each with its inclusion proof checked."""
    claims = _read(cache, "claims", source.claims)
    known = [] if isinstance(claims, NotAvailable) else [c for c in claims if c["client_ref"] == client_ref]
    claim = next((c for c in known if c["claim_id"] == claim_id), None)
    if claim_id and claim is None:
        raise NotAvailable(f"no claim {claim_id} in dossier {client_ref} that you may see", field="claim_id")
    trajectory_id = claim["trajectory_id"] if claim is not None else trajectory_id
    claim_ids = {c["claim_id"] for c in known if c["trajectory_id"] == trajectory_id}
    entries = [e for e in source.entries(client_ref)
               if e["envelope"]["payload"].get("trajectory_id") == trajectory_id
               or e["envelope"]["payload"].get("claim_id") in claim_ids]
    if not entries:
        raise NotAvailable(f"no entries of trajectory {trajectory_id} that you may see", field="trajectory_id")
    checks = {check.log_index: check for check in source.prove(entries)}
    rows = [{"log_index": e["log_index"], "type": e["envelope"]["payload"]["type"],
             "occurred_on": e["envelope"]["payload"].get("occurred_on"), "recorded_at": e["recorded_at"],
             "submitter": e["envelope"]["submitter"], "verdict": e["verdict"],
             "rule": (e["refusal"] or {}).get("rule"), "proof": checks[e["log_index"]],
             "claim_id": e["envelope"]["payload"].get("claim_id")} for e in entries]
    return {"title": _("Claim") if claim is not None else _("Traject"), "claim": claim, "client_ref": client_ref,
            "trajectory_id": trajectory_id, "rows": rows, "failed": [r for r in rows if not r["proof"].ok],
            "tree_size": next(iter(checks.values())).tree_size,
            "can_decide": source.who.mode == "live" and source.who.role == "funder" and claim is not None
            and claim["funder"] == source.who.party,
            "can_contest": source.who.mode == "live" and claim is not None and claim["status"] in ("claimed", "confirmed")
            and source.who.role in ("funder", "provider") and claim["provider"] != source.who.party}


def age(health: Any, _: Gettext, now: datetime | None = None) -> str | None:
    """How long ago the newest checkpoint was signed, in words."""
    if isinstance(health, NotAvailable) or not health.checkpoint_time:
        return None
    signed = datetime.fromisoformat(health.checkpoint_time.replace("Z", "+00:00"))
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - signed).total_seconds()))
    if seconds < 120:
        return f"{seconds} {_('seconden geleden')}"
    if seconds < 7200:
        return f"{seconds // 60} {_('minuten geleden')}"
    if seconds < 172800:
        return f"{seconds // 3600} {_('uur geleden')}"
    return f"{seconds // 86400} {_('dagen geleden')}"


BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "overview": overview, "claims": claims_page, "payments": payments_page, "flags": flags_page,
    "claim": drilldown, "trajectory": drilldown,
}
TABLES = {"uitstroom-per-jaar": ("overview", "by_year"), "uitstroom-per-aanbieder": ("overview", "by_provider"),
          "aantallen": ("overview", "counts"), "claims-per-status": ("overview", "statuses"),
          "claims": ("claims", "table"), "betalingen": ("payments", "figure"), "signaleringen": ("flags", "figure")}


FIGURES = ("overview", "payments", "flags")  # pages of figures: the last ones while new ones are made


def build(name: str, source: Source, cache: PerVersion, lang: str, _: Gettext, **params: str) -> dict[str, Any]:
    """A page's context. A page of figures not made within the cache's patience after a new
    entry is the last one made, with ``figures_at`` (the log size its figures are at) and
    ``newest`` (the newest); every other page is made at the newest size."""
    return _build(name, source, cache, lang, _, params, fresh=False)


def _build(name: str, source: Source, cache: PerVersion, lang: str, _: Gettext, params: dict[str, str],
           fresh: bool) -> dict[str, Any]:
    if name in ("claim", "trajectory"):  # the proofs are checked on every visit
        return BUILDERS[name](source, cache, lang, _, **params)
    key = ("page", name, lang, tuple(sorted(params.items())))
    make = lambda: BUILDERS[name](source, cache, lang, _, **params)  # noqa: E731
    if fresh or name not in FIGURES:
        return cache.get(key, make)
    found = cache.latest(key, make)
    return {**found.value, "figures_at": found.version, "newest": found.newest, "stale": found.stale}


def table(key: str, source: Source, cache: PerVersion, lang: str, _: Gettext, query: dict[str, str]) -> Table:
    """A page's table by its key (``KeyError`` for none); the claims table takes the queue's filters."""
    name, field = TABLES[key]
    params: dict[str, str] = {k: query[k] for k in ("status", "provider", "flag", "period") if k in query} if name == "claims" else {}
    found = _build(name, source, cache, lang, _, params, fresh=True)[field]  # a download: at the newest size
    if isinstance(found, Figure):
        return found.table
    if not isinstance(found, Table):
        raise NotAvailable(str(found) if found is not None else f"no table {key}", field="table")
    return found

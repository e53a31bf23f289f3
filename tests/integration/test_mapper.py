"""Recorded events are stored from the entry text the ledger made for the leaf: the bytes
read back as the same events eventsourcing's own mapper gives, and hold the canonical entry."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Mapper
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.aggregates import Dossier
from ledger.application import Ledger
from ledger.domain.canonical import canonical_bytes
from ledger.domain.entry import entry_body, entry_text
from ledger.infra.storage.log_append import LogAppend
from ledger.infra.storage.mapper import LedgerMapper
from tests.strategies import JSON_VALUES, TEXT
from tests.support import claim, commission, make_world


def _reference(ledger: Ledger) -> Mapper[uuid.UUID]:
    transcoder = JSONTranscoder()
    ledger.register_transcodings(transcoder)
    return Mapper(transcoder=transcoder)


def test_a_dossiers_stored_events_read_back_as_eventsourcing_maps_them(database_url: str) -> None:
    world = make_world(database_url)
    ref = world.ledger.pseudonym("111222333")
    trajectory = str(uuid.uuid4())
    world.submit("gemeente-haarlem", commission(ref, trajectory_id=trajectory))
    world.ledger.submit_batch([world.signed("werkfit", claim(ref, trajectory)), world.signed("jobstap", claim(ref, trajectory))])
    reference = _reference(world.ledger)
    stored = world.ledger.recorder.select_events(world.ledger.dossier(ref).id)
    assert [e.topic.rsplit(".", 1)[-1] for e in stored] == ["Opened", "Recorded", "Recorded", "Recorded"]
    for event in stored:
        ours, theirs = world.ledger.mapper.to_domain_event(event), reference.to_domain_event(event)
        assert vars(ours) == vars(theirs)
        if event.topic.endswith("Recorded"):
            assert canonical_bytes(vars(ours)["entry"]) in event.state  # the entry text itself
    world.ledger.close()


ENTRIES = st.builds(entry_body,
                    st.fixed_dictionaries({"payload": st.dictionaries(TEXT, JSON_VALUES, max_size=4), "submitter": TEXT,
                                           "key_id": TEXT, "signature": TEXT}),
                    st.sampled_from(["accepted", "refused"]), st.none() | st.dictionaries(TEXT, TEXT, max_size=2), TEXT)


@settings(max_examples=60)
@given(ENTRIES, st.datetimes(timezones=st.just(timezone.utc)))
def test_the_fast_state_decodes_to_what_the_reference_encodes(entry: dict[str, Any], moment: datetime) -> None:
    transcoder = JSONTranscoder()
    Ledger.register_transcodings(None, transcoder)  # type: ignore[arg-type]
    ours = LedgerMapper(transcoder=transcoder)
    reference: Mapper[uuid.UUID] = Mapper(transcoder=transcoder)
    event = Dossier.Recorded(originator_id=uuid.uuid4(), originator_version=2, timestamp=moment, entry=entry)
    append = LogAppend(event.originator_id, 2, entry, uuid.uuid4(), 1, text=entry_text(entry))
    with ours.entry_texts([append]):
        fast = ours.to_stored_event(event)
    assert append.text is not None and append.text[0] + append.text[1] in fast.state  # the fast path was taken
    assert vars(reference.to_domain_event(fast)) == vars(event)
    assert ours.to_stored_event(event) == reference.to_stored_event(event)  # outside a save: eventsourcing's own


def test_a_text_goes_only_with_its_own_entry() -> None:
    transcoder = JSONTranscoder()
    Ledger.register_transcodings(None, transcoder)  # type: ignore[arg-type]
    ours = LedgerMapper(transcoder=transcoder)
    reference: Mapper[uuid.UUID] = Mapper(transcoder=transcoder)
    body = entry_body({"payload": {"a": 1}, "submitter": "s", "key_id": "k", "signature": "x"}, "accepted", None, "t")
    twin = dict(body)  # equal, but another object
    event = Dossier.Recorded(originator_id=uuid.uuid4(), originator_version=2,
                             timestamp=datetime.now(timezone.utc), entry=twin)
    with ours.entry_texts([LogAppend(event.originator_id, 2, body, uuid.uuid4(), 1, text=(b"{", b"}"))]):
        assert ours.to_stored_event(event) == reference.to_stored_event(event)

"""eventsourcing's mapper, told the text of the entries the ledger is about to save.

A ``Recorded`` event's stored state is ``{"timestamp": ..., "entry": ...}`` in JSON. The
ledger has already put each new entry's canonical JSON together (``ledger.domain.entry.entry_text``,
reusing the payload bytes its signature was checked over) to hash its leaf; here that
text becomes the stored ``entry`` too, instead of encoding the entry once more. It is
valid JSON of the same entry (keys sorted, as RFC 8785 writes them), so eventsourcing
reads it back as the same event (``tests/integration/test_mapper.py``).

The texts are handed over for one save (``entry_texts``) and found by the identity of
the entry object, checked, so a text can never go with another entry; any other event,
or a mapper with a cipher or compressor, is mapped by eventsourcing itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from json.encoder import encode_basestring
from typing import Any

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from ledger.infra.storage.log_append import LogAppend

_STATE_KEYS = ["originator_id", "originator_version", "timestamp", "entry"]  # a Recorded event's, in order


class LedgerMapper(Mapper[Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._texts: dict[int, tuple[dict[str, Any], bytes]] = {}
        self._transcodings: dict[type, tuple[Any, bytes]] = {}  # per value type: its transcoding, the JSON before its data

    @contextmanager
    def entry_texts(self, appends: list[LogAppend]) -> Iterator[None]:
        """While saving ``appends``: their entries' texts, where they have one."""
        keys = []
        for append in appends:
            if append.text is not None:
                self._texts[id(append.body)] = (append.body, append.text[0] + append.text[1])
                keys.append(id(append.body))
        try:
            yield
        finally:
            for key in keys:
                self._texts.pop(key, None)

    def _timestamp(self, value: Any) -> bytes:
        """The transcoder's JSON for the event's timestamp: its registered transcoding's
        {"_type_": name, "_data_": data}, written as the transcoder's encoder writes it."""
        found = self._transcodings.get(type(value))
        if found is None:
            transcoding = getattr(self.transcoder, "types", {}).get(type(value))
            name = None if transcoding is None else encode_basestring(transcoding.name).encode()
            found = self._transcodings[type(value)] = (transcoding, b'{"_type_":%s,"_data_":' % name if name else b"")
        transcoding, head = found
        data = None if transcoding is None else transcoding.encode(value)
        if transcoding is None or type(data) is not str:
            return self.transcoder.encode(value)
        return b"%s%s}" % (head, encode_basestring(data).encode())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = vars(domain_event)
        found = self._texts.get(id(state.get("entry")))
        if (found is None or found[0] is not state["entry"] or list(state) != _STATE_KEYS or self.cipher
                or self.compressor or getattr(type(domain_event), "class_version", 1) != 1):
            return super().to_stored_event(domain_event)
        timestamp = self._timestamp(state["timestamp"])
        return StoredEvent(
            originator_id=state["originator_id"],
            originator_version=state["originator_version"],
            topic=get_topic(type(domain_event)),
            state=b'{"timestamp":%s,"entry":%s}' % (timestamp, found[1]),
        )

    def entry_of(self, originator_id: Any, originator_version: int, topic: str, state: bytes) -> dict[str, Any]:
        """The entry a stored ``Recorded`` event holds. Decoded straight from its state when
        eventsourcing would do no more than decode it (no cipher, no compressor, stored at
        the event class's current version: nothing to upcast); through the mapper otherwise."""
        if self.cipher is None and self.compressor is None and getattr(resolve_topic(topic), "class_version", 1) == 1:
            event_state = self.transcoder.decode(state)
            if "class_version" not in event_state:
                return event_state["entry"]  # type: ignore[no-any-return]
        stored = StoredEvent(originator_id, originator_version, topic, state)
        return self.to_domain_event(stored).entry  # type: ignore[attr-defined,no-any-return]

"""``trajectledger submit FILE`` against a served ledger (SQLite and PostgreSQL): running a file
again records nothing new and prints the original receipts; a partly failed file, fixed and run
again, records only what was fixed; ``--url`` takes the server root or its ``/v1``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.main import main
from cli.submit_file import derived_envelope_id
from sdk.client import LedgerClient
from tests.e2e.conftest import Served
from tests.support import commission, new_id, payload

FUNDER, PROVIDER = "gemeente-haarlem", "werkfit"


def without_id(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name != "envelope_id"}


def submit(served: Served, tmp_path: Path, party: str, items: list[dict[str, Any]], capsys: pytest.CaptureFixture[str],
           url_suffix: str = "") -> tuple[int, list[dict[str, Any]]]:
    """Run ``trajectledger submit``; the exit code and one parsed line per item."""
    file = tmp_path / "payloads.json"
    file.write_text(json.dumps(items), encoding="utf-8")
    code = main(["submit", str(file), "--url", served.url + url_suffix, "--party", party,
                 "--key", str(served.key_files[party])])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, [json.loads(line) for line in captured.out.splitlines()]


def test_running_a_file_again_records_nothing_and_prints_the_original_receipts(
        served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = [without_id(commission(served.refs[0])), without_id(commission(served.refs[1])),
             without_id(commission(served.refs[2], provider="nobody"))]  # refused: no such provider
    size = served.ledger.log_size()
    code, first = submit(served, tmp_path, FUNDER, items, capsys)
    assert code == 1  # one refusal
    assert [line["verdict"] for line in first] == ["accepted", "accepted", "refused"]
    assert [line["envelope_id"] for line in first] == [derived_envelope_id(FUNDER, item) for item in items]
    assert served.ledger.log_size() == size + 3

    for suffix in ("/v1", "/v1/", "/"):  # the server root or its /v1: the same ledger
        code, again = submit(served, tmp_path, FUNDER, items, capsys, url_suffix=suffix)
        assert (code, again) == (1, first)  # the original receipts, signatures and log indexes included
    assert served.ledger.log_size() == size + 3  # nothing recorded twice


def test_a_partly_failed_file_fixed_and_run_again_records_only_the_fixed_item(
        served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = without_id(commission(served.refs[0])), without_id(commission(served.refs[1]))
    bad["fee_cents"] = "a lot"  # malformed: not recorded
    size = served.ledger.log_size()
    code, first = submit(served, tmp_path, FUNDER, [good, bad], capsys)
    assert code == 2
    assert first[0]["verdict"] == "accepted" and first[1]["error"]["field"] == "payload.fee_cents"
    assert served.ledger.log_size() == size + 1

    bad["fee_cents"] = 250000
    code, second = submit(served, tmp_path, FUNDER, [good, bad], capsys)
    assert code == 0
    assert second[0] == first[0]  # the good one: its original receipt
    assert second[1]["verdict"] == "accepted" and second[1]["log_index"] == first[0]["log_index"] + 1
    assert served.ledger.log_size() == size + 2


def test_identical_items_are_one_submission_unless_they_carry_envelope_ids(
        served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trajectory = commission(served.refs[0], provider=PROVIDER)
    assert submit(served, tmp_path, FUNDER, [without_id(trajectory)], capsys)[0] == 0
    activity = without_id(payload("ActivityRecorded", served.refs[0], trajectory_id=trajectory["trajectory_id"],
                                  instrument=28))
    size = served.ledger.log_size()
    code, lines = submit(served, tmp_path, PROVIDER, [activity, activity], capsys)
    assert code == 0 and lines[0] == lines[1] and lines[0]["verdict"] == "accepted"
    assert served.ledger.log_size() == size + 1

    twice = [{"envelope_id": new_id(), **activity}, {"envelope_id": new_id(), **activity}]
    code, lines = submit(served, tmp_path, PROVIDER, twice, capsys)
    assert code == 0 and [line["envelope_id"] for line in lines] == [item["envelope_id"] for item in twice]
    assert [line["verdict"] for line in lines] == ["accepted", "accepted"]
    assert served.ledger.log_size() == size + 3


def test_the_derived_envelope_id_is_fixed_by_party_and_payload() -> None:
    item = {"type": "ActivityRecorded", "occurred_on": "2024-03-01", "instrument": 28}
    # pinned: a change here would make every file submitted before a new submission
    assert derived_envelope_id(PROVIDER, item) == derived_envelope_id(PROVIDER, dict(reversed(item.items())))
    assert derived_envelope_id(PROVIDER, item) == "73e7ba7c-8cd5-5729-8eea-966a4de38a72"
    assert derived_envelope_id("jobstap", item) != derived_envelope_id(PROVIDER, item)
    assert derived_envelope_id(PROVIDER, {**item, "instrument": 29}) != derived_envelope_id(PROVIDER, item)


@pytest.mark.parametrize(("url", "path"), [
    ("https://ledger.example.nl", "/v1/health"), ("https://ledger.example.nl/", "/v1/health"),
    ("https://ledger.example.nl/v1", "/v1/health"), ("https://ledger.example.nl/v1/", "/v1/health"),
    ("https://example.nl/ledger/v1", "/ledger/v1/health"),  # a path before /v1 stays
])
def test_the_client_takes_the_server_root_or_its_v1(url: str, path: str) -> None:
    paths: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json={"status": "ok"})

    client = LedgerClient.connect(url, FUNDER, Ed25519PrivateKey.generate(), transport=httpx.MockTransport(answer))
    assert client.get("/health") == {"status": "ok"}
    client.close()
    assert paths == [path]


def test_submit_refuses_a_key_file_that_is_not_an_ed25519_pem_key(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "pseudonym.key"
    key.write_bytes(os.urandom(32))  # 32 random bytes: taken as a signing key before
    file = tmp_path / "payloads.json"
    file.write_text(json.dumps([{"type": "ActivityRecorded"}]), encoding="utf-8")
    code = main(["submit", str(file), "--url", "http://127.0.0.1:9", "--party", FUNDER, "--key", str(key)])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert captured.err == f"error: --key {key}: not an Ed25519 private key in PEM (PKCS#8: '-----BEGIN PRIVATE KEY-----')\n"

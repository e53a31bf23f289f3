"""Of several servers on one database, one pushes checkpoints to the witnesses: the holder of
the ``witnessing`` lease (``ledger.infra.lease``), on SQLite and PostgreSQL. The lease is taken
by exactly one of many racing threads or processes, renewed by its holder, taken over once it
lapses or is released; and two witnessing threads on one database push each checkpoint once."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from cli.main import main
from ledger.application import Ledger
from ledger.infra.lease import Lease, holder_of
from ledger.infra.storage.migrate import upgrade
from ledger.infra.transparency.witnessing import HttpReply, Post, Witnessing
from ledger.settings import Settings, create_keys, load_keys
from tests.integration.test_witnessing import Witnesses
from tests.support import World, make_world


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    world = make_world(database_url)
    yield world
    world.ledger.close()


def labelled(witnesses: Witnesses, label: str, seen: list[str]) -> Post:
    """The witnesses' poster, noting which server made each request."""
    def post(url: str, body: bytes, timeout: float) -> HttpReply:
        seen.append(label)
        return witnesses.post(url, body, timeout)
    return post


def test_the_lease_is_renewed_by_its_holder_and_taken_over_when_released_or_lapsed(world: World) -> None:
    engine = world.ledger.engine
    first, second = Lease(engine, "witnessing", ttl=0.3), Lease(engine, "witnessing", ttl=0.3)
    assert first.holder != second.holder
    assert first.hold() and first.hold()  # taken, renewed
    assert not second.hold()
    held = holder_of(engine, "witnessing")
    assert held is not None and held[0] == first.holder and held[1] > time.time()
    first.release()
    assert holder_of(engine, "witnessing") is None
    assert second.hold() and not first.hold()  # released: taken over at once
    time.sleep(0.4)  # the holder does not renew it: it lapses
    assert holder_of(engine, "witnessing") is None
    assert first.hold() and not second.hold()
    other_task = Lease(engine, "another-task", ttl=5)  # no row yet: the first to ask adds it
    assert other_task.hold() and not Lease(engine, "another-task", ttl=5).hold()


def test_exactly_one_of_many_racing_threads_takes_the_lease(world: World) -> None:
    engine = world.ledger.engine
    leases = [Lease(engine, "witnessing", ttl=30) for _ in range(8)]
    start = threading.Barrier(len(leases))
    won: list[bool] = [False] * len(leases)

    def take(i: int) -> None:
        start.wait()
        won[i] = leases[i].hold()

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(leases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(won) == 1


def _take_in_a_process(url: str, start_at: float) -> bool:
    engine = create_engine(url + ("?timeout=60" if url.startswith("sqlite") else ""))
    try:
        time.sleep(max(0.0, start_at - time.time()))
        return Lease(engine, "witnessing", ttl=30).hold()
    finally:
        engine.dispose()


def test_exactly_one_of_many_racing_processes_takes_the_lease(database_url: str, tmp_path: Path) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    engine.dispose()
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        start_at = time.time() + 2.0  # after every process has started
        won = pool.starmap(_take_in_a_process, [(database_url, start_at)] * 4)
    assert sorted(won) == [False, False, False, True]


def test_two_servers_on_one_database_push_each_checkpoint_once(world: World, tmp_path: Path) -> None:
    witnesses = Witnesses(tmp_path, world.ledger.transparency.verifier_key)
    seen: list[str] = []
    servers = {label: Witnessing(world.ledger.transparency, witnesses.policy(), every_seconds=0.05, timeout=1,
                                 poster=labelled(witnesses, label, seen)) for label in ("one", "two")}
    world.ledger.checkpoint()
    assert servers["one"].turn() is not None  # holds the lease: asks the witnesses
    assert servers["two"].turn() is None  # does not
    assert set(seen) == {"one"} and len(seen) == 3
    for server in servers.values():
        server.start()
    for n in range(3):  # new checkpoints while both threads run
        world.register(f"provider-{n}", "provider")
        world.ledger.checkpoint()
        time.sleep(0.3)
    servers["one"].close()  # a clean stop releases the lease: the other takes over at its next round
    world.register("after-the-stop", "provider")
    last = world.ledger.checkpoint().tree_size
    deadline = time.monotonic() + 10
    while "two" not in seen and time.monotonic() < deadline:
        time.sleep(0.05)
    servers["two"].close()
    assert seen.count("one") >= 12 and "two" in seen
    assert seen[seen.index("two"):] == ["two"] * len(seen[seen.index("two"):])  # never both
    sizes = [size for _, _, size in witnesses.requests]
    assert last in sizes
    for witness in "abc":
        asked = [(old, size) for name, old, size in witnesses.requests if name == witness]
        assert len(asked) == len(set(asked))  # no request made twice


def test_witness_status_says_which_server_pushes_who_cosigned_and_what_is_published(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    create_keys(tmp_path / "keys")
    operator_key, pseudonym_key = load_keys(tmp_path / "keys")
    ledger = Ledger(Settings(database_url, operator_key, pseudonym_key))
    witnesses = Witnesses(tmp_path, ledger.transparency.verifier_key)
    policy_file = tmp_path / "policy.txt"
    policy_file.write_text("".join(f"witness {n.upper()} {witnesses.vkey(n)} http://{n}\n" for n in "abc")
                           + "group q 2 A B C\nquorum q\n")
    size = ledger.checkpoint().tree_size
    for name, value in (("TRAJECTLEDGER_KEY_DIR", str(tmp_path / "keys")), ("TRAJECTLEDGER_DATABASE_URL", database_url),
                        ("TRAJECTLEDGER_WITNESS_POLICY", str(policy_file))):
        monkeypatch.setenv(name, value)
    assert main(["witness", "status"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "witnessing rounds: no server runs them now (none serves with the policy, or its lease lapsed)",
        f"newest tree size {size}: cosigned by none; quorum (2 of (A, B, C)) NOT met",
        "published (GET /v1/log/checkpoint): none yet, no checkpoint has the quorum (404 checkpoint.not-witnessed)"]
    server = Witnessing(ledger.transparency, witnesses.policy(), poster=witnesses.post)
    witnesses.down = {"c"}
    assert server.turn() is not None
    assert main(["witness", "status"]) == 0
    first, *rest = capsys.readouterr().out.splitlines()
    assert first.startswith(f"witnessing rounds: run by {server.lease.holder} (its lease runs until 20")
    assert rest == [f"newest tree size {size}: cosigned by A, B; quorum (2 of (A, B, C)) met",
                    f"published (GET /v1/log/checkpoint): tree size {size}"]
    server.close()
    assert main(["witness", "status"]) == 0  # a clean stop released the lease
    assert "no server runs them now" in capsys.readouterr().out
    ledger.close()

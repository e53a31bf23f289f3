"""A lease: which one of several processes on one database runs a task (a row in ``leases``).

Separate servers on one database (``serve`` started twice, on one machine or several) each run
a witnessing thread; only the one holding the ``witnessing`` lease pushes checkpoints to the
witnesses, so each checkpoint reaches a witness once, not once per server. A process takes the
lease when nobody holds it or the holder's has lapsed, and renews it each time it runs the task;
it lapses ``ttl`` seconds after the last renewal (the holder stopped without releasing it, or
hangs), and ``release``, at a clean stop, lets another take over at once.

Taking and renewing is one conditional UPDATE (holder is me, or the lease has lapsed): two
processes can never both hold it by the database's account. Times are the processes' own
clocks: servers whose clocks differ by more than ``ttl`` may both push for a while, which costs
the witnesses a repeated request and nothing else (a witness answers a checkpoint it has
cosigned again; the stored note's update is a compare-and-swap).
"""

from __future__ import annotations

import os
import socket
import time
import uuid

from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ledger.infra.storage.tables import leases


def holder_name() -> str:
    """This process, as a lease names its holder: host, process id and a nonce (a restarted
    process with a reused pid is another holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, engine: Engine, name: str, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError("a lease lasts a positive number of seconds")
        self.engine, self.name, self.ttl = engine, name, ttl
        self.holder = holder_name()

    def hold(self) -> bool:
        """Take or renew the lease for ``ttl`` seconds from now; False while another holds it."""
        now = time.time()
        with self.engine.begin() as connection:
            changed = connection.execute(
                update(leases)
                .where(leases.c.name == self.name, or_(leases.c.holder == self.holder, leases.c.expires_at < now))
                .values(holder=self.holder, expires_at=now + self.ttl)).rowcount
            if changed == 1:
                return True
            if connection.execute(select(leases.c.name).where(leases.c.name == self.name)).first() is not None:
                return False  # another holds it
        try:  # no row at all (the migration adds the witnessing one): the first to add it holds it
            with self.engine.begin() as connection:
                connection.execute(insert(leases).values(name=self.name, holder=self.holder, expires_at=now + self.ttl))
        except IntegrityError:  # another added it meanwhile
            return False
        return True

    def release(self) -> None:
        """Give the lease up (if this process holds it): another may take it at once."""
        with self.engine.begin() as connection:
            connection.execute(update(leases).where(leases.c.name == self.name, leases.c.holder == self.holder)
                               .values(holder="", expires_at=0.0))


def holder_of(engine: Engine, name: str) -> tuple[str, float] | None:
    """Who holds the lease ``name`` and until when (seconds since the epoch); None if nobody does
    (never taken, released, or lapsed)."""
    with engine.connect() as connection:
        row = connection.execute(select(leases.c.holder, leases.c.expires_at).where(leases.c.name == name)).first()
    if row is None or not row.holder or row.expires_at < time.time():
        return None
    return row.holder, row.expires_at

"""Alembic environment: runs on the connection the ledger hands it, or on the URL."""

from alembic import context
from sqlalchemy import create_engine

from ledger.infra.storage.tables import metadata as log_metadata
from projections.tables import metadata as projection_metadata

config = context.config
target_metadata = [log_metadata, projection_metadata]


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic: no connection was handed over and no sqlalchemy.url is set")
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run()

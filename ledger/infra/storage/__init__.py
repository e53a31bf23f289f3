"""Infrastructure: SQLAlchemy tables the project owns, the eventsourcing recorder that
appends to the transparency log in the same transaction, and Alembic migrations."""

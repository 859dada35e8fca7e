"""Alembic environment: always driven by talentfed.storage.migrate with an open connection."""

from alembic import context

from talentfed.storage.models import Base
from talentfed.storage.search import is_model_object

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations with `talentfed migrate`, not the alembic command.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # autogenerate must not propose dropping the full-text index (FTS5 tables, GIN index)
    include_name=is_model_object,
)
with context.begin_transaction():
    context.run_migrations()

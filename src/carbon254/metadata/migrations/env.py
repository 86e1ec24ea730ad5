"""Alembic environment: runs on the connection `MetadataDatabase.migrate` passes in.

There is no alembic.ini: the database's own code configures Alembic and
holds the migration lock, so migrations always run the same way.
"""

from __future__ import annotations

from alembic import context

from carbon254.metadata.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through carbon254.metadata.MetadataDatabase.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    transactional_ddl=True,
    # SQLite alters tables by copying them; batch mode does that for us.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

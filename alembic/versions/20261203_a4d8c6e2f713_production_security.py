"""production security: secrets encrypted at rest, key expiry and last use

Revision ID: a4d8c6e2f713
Revises: 9b3e1f2a4c50
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import monitor.store.types
from monitor.security.crypto import process_cipher, seal, unseal

revision: str = "a4d8c6e2f713"
down_revision: str | None = "9b3e1f2a4c50"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
# (table, column, type before): values stored encrypted from this revision on.
SEALED = [
    ("channel", "secrets", JSON),
    ("retraining_pipeline", "config", JSON),
    ("retraining_pipeline", "callback_secret", sa.String(length=128)),
]


def _rewrite(table: str, column: str, change: object) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")
    ).all()
    for row_id, value in rows:
        connection.execute(
            sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
            {"value": change(value), "id": row_id},  # type: ignore[operator]
        )


def upgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", monitor.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_used_at", monitor.store.types.UTCDateTime(timezone=True), nullable=True)
        )
    cipher = process_cipher()
    for table, column, before in SEALED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=before, type_=sa.Text(), postgresql_using=f"{column}::text"
            )
        _rewrite(table, column, lambda value: seal(str(value), cipher))


def downgrade() -> None:
    cipher = process_cipher()
    for table, column, before in SEALED:
        _rewrite(table, column, lambda value: unseal(value, cipher))
        using = f"{column}::jsonb" if before is JSON else f"{column}::varchar(128)"
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.Text(), type_=before, postgresql_using=using
            )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")

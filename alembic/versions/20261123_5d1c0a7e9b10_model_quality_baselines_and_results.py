"""model quality: reference baselines, realized and estimated quality per window

Revision ID: 5d1c0a7e9b10
Revises: 0c2f51b5ee4e
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

revision: str = "5d1c0a7e9b10"
down_revision: str | None = "0c2f51b5ee4e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""serving endpoints and canary rollouts

Revision ID: 7e2b4c9d1f30
Revises: 5d1c0a7e9b10
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

revision: str = "7e2b4c9d1f30"
down_revision: str | None = "5d1c0a7e9b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

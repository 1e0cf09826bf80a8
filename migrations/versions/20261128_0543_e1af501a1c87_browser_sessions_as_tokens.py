"""Browser sessions are access tokens too, so signing out ends them on the server.

Revision ID: e1af501a1c87
Revises: e09120f194fe
Create Date: 2026-11-28 05:43:36.685451
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1af501a1c87"
down_revision: str | None = "e09120f194fe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.Enum('api', 'browser', name='token_purpose', native_enum=False, create_constraint=True, length=16), server_default='api', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        # SQLite copies the table in batch mode: the column's CHECK must go with it.
        batch_op.drop_constraint(op.f("ck_api_tokens_token_purpose"), type_="check")
        batch_op.drop_column("purpose")

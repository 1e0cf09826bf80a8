"""Indexes the recommendation lists and pages need at 10,000 recommendations.

- `recommendations.merged_into_id`: every recommendation shown (its page, the API's detail and
  lists) looks up the ones merged into it; without an index that is a scan of the whole table
  per request.
- `recommendations (process_id, state, updated_at, id)`: a process's list filtered by state,
  newest change first, is read in index order instead of reading every recommendation of the
  process and sorting them.

Revision ID: b7c3d2e8f4a1
Revises: e1af501a1c87
Create Date: 2026-11-28 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b7c3d2e8f4a1"
down_revision: str | None = "e1af501a1c87"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommendations_merged_into_id"), ["merged_into_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_recommendations_process_id_state_updated_at_id"),
            ["process_id", "state", "updated_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendations_process_id_state_updated_at_id"))
        batch_op.drop_index(batch_op.f("ix_recommendations_merged_into_id"))

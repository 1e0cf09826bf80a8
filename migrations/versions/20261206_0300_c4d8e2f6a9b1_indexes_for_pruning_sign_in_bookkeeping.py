"""Indexes for deleting sign-in bookkeeping by age: expired failed sign-ins, and sessions and
tokens that have expired or been revoked. Each sign-in deletes a batch of them; without these
indexes every sign-in would scan the whole table to find the batch.

Revision ID: c4d8e2f6a9b1
Revises: b7c3d2e8f4a1
Create Date: 2026-12-06 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c4d8e2f6a9b1"
down_revision: str | None = "b7c3d2e8f4a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_failures_occurred_at"), ["occurred_at"], unique=False)
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_tokens_revoked_at"), ["revoked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_revoked_at"))
        batch_op.drop_index(batch_op.f("ix_api_tokens_expires_at"))
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_occurred_at"))

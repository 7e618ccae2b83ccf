"""reviews.requeue_reason, review_decisions.scorecard_id: a re-score that changes the findings requeues a call;
partial indexes that a claim walks instead of sorting the whole queue

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 20:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

OPEN = "state IN ('queued', 'claimed')"
CLAIM_INDEXES = {
    "ix_reviews_claim": (["score", "queued_at", "id"], OPEN),
    "ix_reviews_claim_fatal": (["score", "queued_at", "id"], f"{OPEN} AND fatal"),
    "ix_reviews_claim_since": (["queued_at"], OPEN),
}

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requeue_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("review_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scorecard_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_review_decisions_scorecard_id_scorecards"),
            "scorecards",
            ["scorecard_id"],
            ["id"],
            ondelete="CASCADE",
        )
    # Decisions made before this revision were about the scorecard their review pointed at.
    op.execute(
        "UPDATE review_decisions SET scorecard_id = "
        "(SELECT reviews.scorecard_id FROM reviews WHERE reviews.id = review_decisions.review_id)"
    )
    for name, (columns, where) in CLAIM_INDEXES.items():
        op.create_index(name, "reviews", columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def downgrade() -> None:
    for name in CLAIM_INDEXES:
        op.drop_index(name, table_name="reviews")
    with op.batch_alter_table("review_decisions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_review_decisions_scorecard_id_scorecards"), type_="foreignkey")
        batch_op.drop_column("scorecard_id")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_column("requeue_reason")

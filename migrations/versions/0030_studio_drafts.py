"""Analyst studio: drafts (a named set of files under edit and review) and their files.

Revision ID: 0030_studio_drafts
Revises: 0012_merge_heads
"""
from alembic import op
import sqlalchemy as sa


revision = "0030_studio_drafts"
down_revision = "0012_merge_heads"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "studio_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("review_requested_by", sa.String(length=80), nullable=True),
        sa.Column("review_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=80), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deployed_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'in_review', 'approved', 'deployed')",
                           name=op.f("ck_studio_draft_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_draft")),
    )
    op.create_index("ix_studio_draft_status_updated", "studio_draft", ["status", "updated_at"])
    op.create_table(
        "studio_draft_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["studio_draft.id"], ondelete="CASCADE",
                                name=op.f("fk_studio_draft_file_draft_id_studio_draft")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_draft_file")),
        sa.UniqueConstraint("draft_id", "path", name=op.f("uq_studio_draft_file_draft_id")),
    )
    op.create_index(op.f("ix_studio_draft_file_draft_id"), "studio_draft_file", ["draft_id"])


def downgrade():
    op.drop_index(op.f("ix_studio_draft_file_draft_id"), table_name="studio_draft_file")
    op.drop_table("studio_draft_file")
    op.drop_index("ix_studio_draft_status_updated", table_name="studio_draft")
    op.drop_table("studio_draft")

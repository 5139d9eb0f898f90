"""Merge the payments, outbox/knowledge and API-token branches into one head.

Revision ID: 0012_merge_heads
Revises: 0004_payments, 0005_outbox_knowledge, 0011_api_token
"""

revision = "0012_merge_heads"
down_revision = ("0004_payments", "0005_outbox_knowledge", "0011_api_token")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

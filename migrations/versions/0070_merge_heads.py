"""Merge the customer, studio, personal-data and agent-workspace branches into one head.

Revision ID: 0070_merge_heads
Revises: 0020_customers, 0030_studio_drafts, 0050_personal_data, 0060_agent_workspace
"""

revision = "0070_merge_heads"
down_revision = ("0020_customers", "0030_studio_drafts", "0050_personal_data", "0060_agent_workspace")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

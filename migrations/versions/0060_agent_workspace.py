"""Agent workspace: task-list columns and indexes on human_task, substitutes, reply templates, comments.

Revision ID: 0060_agent_workspace
Revises: 0012_merge_heads
Create Date: 2026-11-24 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0060_agent_workspace"
down_revision = "0012_merge_heads"
branch_labels = None
depends_on = None

TASK_COLUMNS = {
    "category": lambda: sa.String(length=80),
    "emotion": lambda: sa.String(length=20),
    "order_amount": sa.Float,
    "customer": lambda: sa.String(length=120),
    "complaint_ref": lambda: sa.String(length=40),
    "requested_by": lambda: sa.String(length=120),
}
TASK_INDEXES = {
    "ix_human_task_group_queue": ["candidate_group", "status", "assignee", "priority", "created_at", "id"],
    "ix_human_task_my_tasks": ["assignee", "status", "priority", "created_at", "id"],
    "ix_human_task_team": ["status", "priority", "created_at", "id"],
    "ix_human_task_done_by": ["completed_by", "status", "completed_at", "id"],
    "ix_human_task_due": ["status", "due_at"],
}
TEMPLATES = [
    {"name": "道歉并说明处理 Apology", "category": None,
     "body": "{customer_name}您好，非常抱歉订单 {order_ref} 给您带来不便。我们已核实情况，会尽快为您处理。"},
    {"name": "退款说明 Refund", "category": None,
     "body": "{customer_name}您好，订单 {order_ref} 的 ¥{amount} 退款已为您申请，预计 1-3 个工作日原路退回。"},
    {"name": "补发说明 Re-ship", "category": "logistics.lost",
     "body": "{customer_name}您好，订单 {order_ref} 的商品我们已安排补发，请留意物流信息。"},
]


def upgrade():
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        for name, kind in TASK_COLUMNS.items():
            batch_op.add_column(sa.Column(name, kind(), nullable=True))
        for name, columns in TASK_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    op.create_table(
        "substitution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("absent_username", sa.String(length=80), nullable=False),
        sa.Column("substitute_username", sa.String(length=80), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_substitution_window_forward")),
        sa.CheckConstraint("absent_username <> substitute_username", name=op.f("ck_substitution_not_self")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_substitution")),
    )
    op.create_index("ix_substitution_substitute", "substitution", ["substitute_username", "ends_at"])
    templates = op.create_table(
        "reply_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_template")),
        sa.UniqueConstraint("name", name=op.f("uq_reply_template_name")),
    )
    op.bulk_insert(templates, TEMPLATES)
    op.create_table(
        "task_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"],
                                name=op.f("fk_task_comment_instance_id_process_instance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_comment")),
    )
    op.create_index(op.f("ix_task_comment_instance_id"), "task_comment", ["instance_id"])


def downgrade():
    op.drop_table("task_comment")
    op.drop_table("reply_template")
    op.drop_table("substitution")
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        for name in TASK_INDEXES:
            batch_op.drop_index(name)
        for name in TASK_COLUMNS:
            batch_op.drop_column(name)

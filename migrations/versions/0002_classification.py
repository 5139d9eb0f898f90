"""Classification: the classifier model registry and agents' label corrections.

Revision ID: 0002_classification
Revises: 0001_foundation
Create Date: 2026-11-22 03:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0002_classification"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

# Frozen copies of the taxonomy codes: a migration must not change when the app code does.
CATEGORY_CODES = (
    "product.quality", "product.not_as_described", "product.short_weight", "order.payment",
    "order.cancellation", "order.price", "order.out_of_stock", "delivery.late", "delivery.wrong",
    "delivery.damaged", "service.attitude", "service.slow_response", "other",
)
EMOTION_CODES = ("calm", "dissatisfied", "angry")


def _one_of(column, codes):
    return f"{column} IN ({', '.join(repr(code) for code in codes)})"


def upgrade():
    op.create_table(
        "classifier_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("artifact_path", sa.String(length=500), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("data_hash", sa.String(length=64), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint("version > 0", name=op.f("ck_classifier_model_version_positive")),
        sa.CheckConstraint("NOT is_active OR passed", name=op.f("ck_classifier_model_active_has_passed")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classifier_model")),
        sa.UniqueConstraint("version", name=op.f("uq_classifier_model_version")),
    )
    op.create_index("ix_classifier_model_one_active", "classifier_model", ["is_active"], unique=True,
                    sqlite_where=sa.text("is_active"), postgresql_where=sa.text("is_active"))

    op.create_table(
        "label_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("emotion", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=120), nullable=True),
        sa.Column("corrected_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(text) > 0", name=op.f("ck_label_correction_text_not_empty")),
        sa.CheckConstraint(_one_of("category", CATEGORY_CODES), name=op.f("ck_label_correction_category_known")),
        sa.CheckConstraint(_one_of("emotion", EMOTION_CODES), name=op.f("ck_label_correction_emotion_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_correction")),
    )
    op.create_index(op.f("ix_label_correction_created_at"), "label_correction", ["created_at"], unique=False)
    op.create_index(op.f("ix_label_correction_source_ref"), "label_correction", ["source_ref"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_label_correction_source_ref"), table_name="label_correction")
    op.drop_index(op.f("ix_label_correction_created_at"), table_name="label_correction")
    op.drop_table("label_correction")
    op.drop_index("ix_classifier_model_one_active", table_name="classifier_model")
    op.drop_table("classifier_model")

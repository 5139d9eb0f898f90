"""Customer language: the language a customer reads their notifications in (NULL: the shop's default,
KESU_NOTIFICATION_LANGUAGE).

Revision ID: 0140_customer_language
Revises: 0130_dashboard_filters
Create Date: 2026-11-22 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0140_customer_language"
down_revision = "0130_dashboard_filters"
branch_labels = None
depends_on = None


KNOWN = "language IS NULL OR language IN ('zh_CN', 'en')"   # app.i18n.LANGUAGES


def upgrade():
    # The check goes with the column, so that SQLite adds both with one ALTER TABLE ... ADD COLUMN. A
    # batch table copy of customer would fail there: DROP TABLE customer breaks the orders' foreign keys.
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10),
                                      sa.CheckConstraint(KNOWN, name=op.f("ck_customer_language_known")),
                                      nullable=True))


def downgrade():
    # ALTER TABLE ... DROP COLUMN on both (SQLite 3.35+), dropping the column's check with it; no table copy
    op.drop_column("customer", "language")

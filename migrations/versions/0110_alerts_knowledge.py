"""Smart alerts and the knowledge base: alert, kb_article, template and case columns, search indexes.

Search works for Chinese and English without a word segmenter: on SQLite an FTS5 table with the
trigram tokenizer (``kb_search``, rowid ``2*id`` for an article, ``2*id+1`` for a case) kept in
step by triggers; on PostgreSQL pg_trgm GIN indexes on the searched text.

Revision ID: 0110_alerts_knowledge
Revises: 0070_merge_heads
Create Date: 2026-11-22 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0110_alerts_knowledge"
down_revision = "0070_merge_heads"
branch_labels = None
depends_on = None

ARTICLE_TEXT = "title || ' ' || body || ' ' || tags"
CASE_TEXT = "coalesce(summary, '') || ' ' || coalesce(reply, '') || ' ' || resolution || ' ' || category"
TEMPLATE_COLUMNS = {
    "language": lambda: sa.String(length=8),
    "created_by": lambda: sa.String(length=80),
    "created_at": lambda: sa.DateTime(timezone=True),
    "updated_by": lambda: sa.String(length=80),
    "updated_at": lambda: sa.DateTime(timezone=True),
    "archived_by": lambda: sa.String(length=80),
    "archived_at": lambda: sa.DateTime(timezone=True),
}
NEW_CASE_TEXT = ("coalesce(new.summary, '') || ' ' || coalesce(new.reply, '') || ' ' || new.resolution || ' ' "
                 "|| new.category")
NEW_ARTICLE_TEXT = "new.body || ' ' || new.tags"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER kb_article_ai AFTER INSERT ON kb_article BEGIN
        INSERT INTO kb_search(rowid, title, body) VALUES (new.id * 2, new.title, {NEW_ARTICLE_TEXT});
    END""",
    f"""CREATE TRIGGER kb_article_au AFTER UPDATE ON kb_article BEGIN
        DELETE FROM kb_search WHERE rowid = old.id * 2;
        INSERT INTO kb_search(rowid, title, body) VALUES (new.id * 2, new.title, {NEW_ARTICLE_TEXT});
    END""",
    """CREATE TRIGGER kb_article_ad AFTER DELETE ON kb_article BEGIN
        DELETE FROM kb_search WHERE rowid = old.id * 2;
    END""",
    f"""CREATE TRIGGER knowledge_case_ai AFTER INSERT ON knowledge_case BEGIN
        INSERT INTO kb_search(rowid, title, body) VALUES (new.id * 2 + 1, new.category, {NEW_CASE_TEXT});
    END""",
    f"""CREATE TRIGGER knowledge_case_au AFTER UPDATE ON knowledge_case BEGIN
        DELETE FROM kb_search WHERE rowid = old.id * 2 + 1;
        INSERT INTO kb_search(rowid, title, body) VALUES (new.id * 2 + 1, new.category, {NEW_CASE_TEXT});
    END""",
    """CREATE TRIGGER knowledge_case_ad AFTER DELETE ON knowledge_case BEGIN
        DELETE FROM kb_search WHERE rowid = old.id * 2 + 1;
    END""",
]


def upgrade():
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("condition_key", sa.String(length=200), nullable=False),
        sa.Column("open_key", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=80), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("(open_key IS NULL) = (resolved_at IS NOT NULL)", name=op.f("ck_alert_open_until_resolved")),
        sa.CheckConstraint("(acknowledged_by IS NULL) = (acknowledged_at IS NULL)", name=op.f("ck_alert_ack_who_when")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint("open_key", name=op.f("uq_alert_open_key")),
    )
    op.create_index("ix_alert_list", "alert", ["resolved_at", "fired_at"])
    op.create_index("ix_alert_condition", "alert", ["condition_key", "fired_at"])
    op.create_table(
        "kb_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=True),
        sa.Column("tags", sa.String(length=255), nullable=False, server_default=""),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_by", sa.String(length=80), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("language IN ('zh', 'en')", name=op.f("ck_kb_article_language_known")),
        sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name=op.f("ck_kb_article_status_known")),
        sa.CheckConstraint("length(title) > 0", name=op.f("ck_kb_article_title_present")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article")),
    )
    op.create_index("ix_kb_article_list", "kb_article", ["status", "category", "updated_at"])
    with op.batch_alter_table("reply_template", schema=None) as batch_op:
        for name, kind in TEMPLATE_COLUMNS.items():
            batch_op.add_column(sa.Column(name, kind(), nullable=True))
    with op.batch_alter_table("knowledge_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        op.execute(f"CREATE INDEX ix_kb_article_trgm ON kb_article USING gin (({ARTICLE_TEXT}) public.gin_trgm_ops)")
        op.execute(f"CREATE INDEX ix_knowledge_case_trgm ON knowledge_case USING gin (({CASE_TEXT}) public.gin_trgm_ops)")
    else:
        op.execute("CREATE VIRTUAL TABLE kb_search USING fts5(title, body, tokenize='trigram')")
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute(f"INSERT INTO kb_search(rowid, title, body) SELECT id * 2 + 1, category, {CASE_TEXT} "
                   "FROM knowledge_case")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_knowledge_case_trgm")
    else:
        for name in ("kb_article_ai", "kb_article_au", "kb_article_ad", "knowledge_case_ai", "knowledge_case_au",
                     "knowledge_case_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS kb_search")
    with op.batch_alter_table("knowledge_case", schema=None) as batch_op:
        batch_op.drop_column("summary")
    with op.batch_alter_table("reply_template", schema=None) as batch_op:
        for name in TEMPLATE_COLUMNS:
            batch_op.drop_column(name)
    op.drop_table("kb_article")
    op.drop_table("alert")

"""Workload counts kept by the database, and indexes for sorting task lists by SLA due time.

task_workload holds the number of open human tasks per (candidate group, assignee); '' stands
for "no group" and "unclaimed". Triggers on human_task keep it exact in the same transaction as
every write, whoever writes (the projection, claims, reassignments, cancellations, bulk loads),
so the supervisor view reads a few hundred rows instead of counting ~50k open tasks.

PostgreSQL: statement-level triggers with transition tables apply one aggregated delta per
statement, upserted in key order so that concurrent claims and unclaims lock counter rows in the
same order (no deadlocks between them). SQLite (one writer at a time): row-level triggers.
A later migration that makes SQLite recreate human_task (batch "move and copy") drops these
triggers and must create them again; tests/workspace/test_workload_counts.py would show the drift.

Revision ID: 0090_workload_counts
Revises: 0070_merge_heads
Create Date: 2026-11-22 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0090_workload_counts"
down_revision = "0070_merge_heads"
branch_labels = None
depends_on = None

DUE_INDEXES = {
    "ix_human_task_queue_due": ["candidate_group", "status", "assignee", "due_at", "id"],
    "ix_human_task_mine_due": ["assignee", "status", "due_at", "id"],
    "ix_human_task_team_due": ["status", "due_at", "id"],
}
UPSERT = ("ON CONFLICT (candidate_group, assignee) DO UPDATE "
          "SET open_count = task_workload.open_count + excluded.open_count")
KEY = "coalesce(candidate_group, '') AS g, coalesce(assignee, '') AS a"
PG_DELTAS = {
    "insert": f"SELECT {KEY}, 1 AS d FROM new_rows WHERE status = 'open'",
    "delete": f"SELECT {KEY}, -1 AS d FROM old_rows WHERE status = 'open'",
    "update": (f"SELECT {KEY}, -1 AS d FROM old_rows WHERE status = 'open' "
               f"UNION ALL SELECT {KEY}, 1 AS d FROM new_rows WHERE status = 'open'"),
}
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION task_workload_{op}() RETURNS trigger AS $$
BEGIN
    INSERT INTO task_workload (candidate_group, assignee, open_count)
    SELECT g, a, sum(d) FROM ({deltas}) AS delta
    GROUP BY g, a HAVING sum(d) <> 0 ORDER BY g, a
    {upsert};
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
PG_REFERENCING = {"insert": "NEW TABLE AS new_rows", "delete": "OLD TABLE AS old_rows",
                  "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}
SQLITE_ADD = ("INSERT INTO task_workload (candidate_group, assignee, open_count) "
              "SELECT coalesce(NEW.candidate_group, ''), coalesce(NEW.assignee, ''), 1 WHERE NEW.status = 'open' "
              + UPSERT + ";")
SQLITE_REMOVE = ("UPDATE task_workload SET open_count = open_count - 1 WHERE OLD.status = 'open' "
                 "AND candidate_group = coalesce(OLD.candidate_group, '') AND assignee = coalesce(OLD.assignee, '');")
SQLITE_TRIGGERS = {
    "insert": ("AFTER INSERT ON human_task WHEN NEW.status = 'open'", SQLITE_ADD),
    "delete": ("AFTER DELETE ON human_task WHEN OLD.status = 'open'", SQLITE_REMOVE),
    "update": ("AFTER UPDATE OF status, assignee, candidate_group ON human_task "
               "WHEN (OLD.status = 'open' OR NEW.status = 'open') AND (OLD.status IS NOT NEW.status "
               "OR OLD.assignee IS NOT NEW.assignee OR OLD.candidate_group IS NOT NEW.candidate_group)",
               SQLITE_REMOVE + " " + SQLITE_ADD),
}


def upgrade():
    op.create_table(
        "task_workload",
        sa.Column("candidate_group", sa.String(length=80), nullable=False),
        sa.Column("assignee", sa.String(length=80), nullable=False),
        sa.Column("open_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("candidate_group", "assignee", name=op.f("pk_task_workload")),
    )
    for name, columns in DUE_INDEXES.items():
        op.create_index(name, "human_task", columns, unique=False)
    op.drop_index("ix_human_task_due", table_name="human_task")
    op.execute("INSERT INTO task_workload (candidate_group, assignee, open_count) "
               "SELECT coalesce(candidate_group, ''), coalesce(assignee, ''), count(*) FROM human_task "
               "WHERE status = 'open' GROUP BY coalesce(candidate_group, ''), coalesce(assignee, '')")
    _create_triggers()
    # the re-ship template seeded by 0060 named a category that does not exist: offer it for every category
    op.execute("UPDATE reply_template SET category = NULL WHERE category = 'logistics.lost'")


def downgrade():
    _drop_triggers()
    op.drop_table("task_workload")
    op.create_index("ix_human_task_due", "human_task", ["status", "due_at"], unique=False)
    for name in DUE_INDEXES:
        op.drop_index(name, table_name="human_task")


def _create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for verb, deltas in PG_DELTAS.items():
            op.execute(PG_FUNCTION.format(op=verb, deltas=deltas, upsert=UPSERT))
            op.execute(f"CREATE TRIGGER task_workload_{verb} AFTER {verb.upper()} ON human_task "
                       f"REFERENCING {PG_REFERENCING[verb]} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION task_workload_{verb}()")
        op.execute("CREATE OR REPLACE FUNCTION task_workload_truncate() RETURNS trigger AS $$ "
                   "BEGIN DELETE FROM task_workload; RETURN NULL; END; $$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER task_workload_truncate AFTER TRUNCATE ON human_task "
                   "FOR EACH STATEMENT EXECUTE FUNCTION task_workload_truncate()")
    else:
        for verb, (when, body) in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER task_workload_{verb} {when} BEGIN {body} END")


def _drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for verb in (*PG_DELTAS, "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS task_workload_{verb} ON human_task")
            op.execute(f"DROP FUNCTION IF EXISTS task_workload_{verb}()")
    else:
        for verb in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS task_workload_{verb}")

"""`flask setup`: the four setup steps in one process; a second run finds nothing to do at each step."""
from __future__ import annotations

from sqlalchemy import func, select

from app.commands.setup import pending_migrations
from app.extensions import db
from app.models import ProcessDefinition
from app.models.studio import StudioDraft
from tests.support.deploy import register_test_operators
from tests.support.engine import DATA


def test_the_test_database_is_at_the_migration_heads(app, db_session) -> None:  # type: ignore[no-untyped-def]
    current, heads = pending_migrations()
    assert heads and current == heads


def test_setup_deploys_and_trains_once_then_skips_every_step(app, cli_runner, tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    register_test_operators(app)
    (tmp_path / "bpmn" / "forms").mkdir(parents=True)
    (tmp_path / "rules").mkdir()
    for name, folder in (("complaint_engine.bpmn", "bpmn"), ("handle.json", "bpmn/forms"), ("priority.dmn", "rules")):
        (tmp_path / folder / name).write_text((DATA / "engine" / name).read_text())
    saved = {key: app.config[key] for key in ("BPMN_DIR", "RULES_DIR", "INSTANCE_DIR")}
    app.config.update(BPMN_DIR=str(tmp_path / "bpmn"), RULES_DIR=str(tmp_path / "rules"),
                      INSTANCE_DIR=str(tmp_path / "instance"))
    try:
        first = cli_runner.invoke(args=["setup", "--no-demo"])
        assert first.exit_code == 0, first.output
        assert "nothing to upgrade" in first.output and "deployed version 1" in first.output
        assert "model v1" in first.output and "activated" in first.output
        again = cli_runner.invoke(args=["setup", "--no-demo"])
        assert again.exit_code == 0, again.output
        assert "definitions unchanged, already deployed as version 1" in again.output
        assert "model v1 is active; nothing to do" in again.output
        assert db.session.execute(select(func.count(ProcessDefinition.id))).scalar() == 1
        # an analyst deploys a reviewed change; then the repository's files change (a pull, an upgrade)
        db.session.add(StudioDraft(name="shorter SLA", author="li", status="deployed", deployed_version=2,
                                   approved_by="wang", created_at=clock.now(), updated_at=clock.now(), updated_by="li"))
        db.session.add(ProcessDefinition(version=2, content_hash="f" * 64, process_ids=["complaint_engine"],
                                         deployed_by="li", approved_by="wang", deployed_at=clock.now()))
        db.session.commit()
        form = tmp_path / "bpmn" / "forms" / "handle.json"
        form.write_text(form.read_text().replace('"title"', '"title" ', 1))
        kept = cli_runner.invoke(args=["setup", "--no-demo"])
        assert kept.exit_code == 0, kept.output
        assert "the current version 2 was deployed from the studio" in kept.output
        assert db.session.execute(select(func.max(ProcessDefinition.version))).scalar() == 2
        forced = cli_runner.invoke(args=["bpmn", "deploy"])  # on purpose: deploys it
        assert forced.exit_code == 0 and "deployed version 3" in forced.output, forced.output
    finally:
        app.config.update(saved)

"""Truncation and anchors: a cut-off tail, a signed anchor file, the chore, and the app role's rights."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import ProcessEvent, ProcessInstance
from app.services import processes
from app.services.audit_anchor import anchor_chore
from tests.support.deploy import deploy_engine_files

DATA = {"text": "坏了", "emotion": "calm", "amount": 600, "order_id": "O-1"}


@pytest.fixture
def instance(app, db_session, clock) -> ProcessInstance:  # type: ignore[no-untyped-def]
    deploy_engine_files(app, clock.now())
    started = processes.start_instance("complaint_engine", DATA, actor="tester", now=clock.now(), business_key="C-1")
    db.session.commit()
    return started


def _events(instance_id: int) -> list[ProcessEvent]:
    return list(db.session.execute(select(ProcessEvent).where(ProcessEvent.instance_id == instance_id)
                                   .order_by(ProcessEvent.seq)).scalars())


def _disable_append_only(app) -> None:  # type: ignore[no-untyped-def]
    if app.config["TEST_BACKEND"] == "postgresql":
        db.session.execute(text("ALTER TABLE process_event DISABLE TRIGGER process_event_no_update"))
    else:
        db.session.execute(text("DROP TRIGGER process_event_no_update"))
        db.session.execute(text("DROP TRIGGER process_event_no_delete"))


def _cut_tail(app, instance: ProcessInstance, keep: int) -> None:  # type: ignore[no-untyped-def]
    _disable_append_only(app)
    db.session.execute(text("DELETE FROM process_event WHERE instance_id = :i AND seq > :k"),
                       {"i": instance.id, "k": keep})
    db.session.expire_all()


def _anchor(cli_runner, folder: Path) -> Path:  # type: ignore[no-untyped-def]
    result = cli_runner.invoke(args=["audit", "anchor", "--folder", str(folder)])
    assert result.exit_code == 0, result.output
    return Path(result.output.split("anchor written: ", 1)[1].strip())


def test_verify_finds_a_cut_off_tail_through_the_instance_row(app, cli_runner, instance) -> None:
    total = len(_events(instance.id))
    _cut_tail(app, instance, keep=total - 2)
    result = cli_runner.invoke(args=["audit", "verify", str(instance.id)])
    assert result.exit_code == 1
    assert result.output.startswith(
        f"TAMPERED: truncated: the instance row records chain head seq {total}, the last stored event is "
        f"seq {total - 2} at event id ")
    assert f"(instance:{instance.id} seq {total - 2})" in result.output


def test_an_anchor_finds_a_tail_cut_off_with_the_row_head_rewritten(app, cli_runner, instance, tmp_path) -> None:
    path = _anchor(cli_runner, tmp_path)
    anchor = json.loads(path.read_text())
    total = len(_events(instance.id))
    assert anchor["streams"][f"instance:{instance.id}"]["seq"] == total and len(anchor["signature"]) == 64
    ok = cli_runner.invoke(args=["audit", "verify", "--anchor", str(path)])
    assert ok.exit_code == 0 and "anchor matches: 2 chain head(s)" in ok.output
    last = _events(instance.id)[-2]
    _cut_tail(app, instance, keep=total - 1)
    db.session.execute(text("UPDATE process_instance SET event_seq = :s, event_head = :h WHERE id = :i"),
                       {"s": last.seq, "h": last.hash, "i": instance.id})
    db.session.expire_all()
    assert cli_runner.invoke(args=["audit", "verify"]).exit_code == 0  # covered tracks fool the chain alone
    result = cli_runner.invoke(args=["audit", "verify", "--anchor", str(path)])
    assert result.exit_code == 1
    assert (f"TAMPERED since the anchor: instance:{instance.id} had {total} events at "
            f"{anchor['created_at']}, event seq {total} is gone ({total - 1} left)") in result.output


def test_a_forged_or_foreign_anchor_is_refused(cli_runner, instance, tmp_path) -> None:
    path = _anchor(cli_runner, tmp_path)
    anchor = json.loads(path.read_text())
    anchor["streams"][f"instance:{instance.id}"]["seq"] = 1
    path.write_text(json.dumps(anchor))
    result = cli_runner.invoke(args=["audit", "verify", "--anchor", str(path)])
    assert result.exit_code == 1
    assert ("anchor refused: the anchor's signature does not match: the file was altered or signed with "
            "another AUDIT_ANCHOR_KEY") in result.output
    path.write_text("[]")
    result = cli_runner.invoke(args=["audit", "verify", "--anchor", str(path)])
    assert "anchor refused: this is not an anchor file (expected created_at, streams, global_head, signature)" \
        in result.output


def test_the_chore_writes_anchors_into_the_configured_folder(app, instance, clock, tmp_path) -> None:
    app.config["AUDIT_ANCHOR_DIR"] = str(tmp_path / "anchors")
    try:
        anchor_chore(clock.now())
    finally:
        app.config["AUDIT_ANCHOR_DIR"] = ""
    [written] = (tmp_path / "anchors").glob("anchor-*.json")
    assert f"instance:{instance.id}" in json.loads(written.read_text())["streams"]
    assert "audit.anchor" in app.extensions["kesu.runtime"].chores


def test_on_postgresql_a_role_with_insert_and_select_cannot_change_events(app, instance) -> None:
    if app.config["TEST_BACKEND"] != "postgresql":
        pytest.skip("database roles are a PostgreSQL feature; SQLite relies on the triggers")
    role = f"kesu_app_{uuid.uuid4().hex[:8]}"
    db.session.execute(text(f"CREATE ROLE {role} NOLOGIN"))
    schema = db.session.execute(text("SELECT current_schema()")).scalar()
    db.session.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
    db.session.execute(text(f"GRANT SELECT, INSERT ON process_event TO {role}"))
    db.session.execute(text(f"SET LOCAL ROLE {role}"))
    for statement in ("UPDATE process_event SET actor = 'mallory'", "DELETE FROM process_event",
                      "ALTER TABLE process_event DISABLE TRIGGER process_event_no_update"):
        with pytest.raises(Exception, match="permission denied|must be owner"):
            with db.session.begin_nested():
                db.session.execute(text(statement))
    assert db.session.execute(text("SELECT count(*) FROM process_event")).scalar() > 0
    db.session.execute(text("RESET ROLE"))


def test_no_anchor_is_written_over_a_log_that_does_not_verify(app, cli_runner, instance, tmp_path) -> None:
    total = len(_events(instance.id))
    _cut_tail(app, instance, keep=total - 2)
    refused = cli_runner.invoke(args=["audit", "anchor", "--folder", str(tmp_path)])
    assert refused.exit_code == 1 and "no anchor written: the log does not verify (TAMPERED" in refused.output
    assert list(tmp_path.iterdir()) == []
    forced = cli_runner.invoke(args=["audit", "anchor", "--folder", str(tmp_path), "--even-if-broken"])
    assert forced.exit_code == 0 and "(over a log that does NOT verify)" in forced.output
    assert len(list(tmp_path.iterdir())) == 1

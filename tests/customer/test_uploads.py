"""Photo files: removed when the submit's unit of work rolls back; orphans removed by the chore and the CLI."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.errors import KesuError
from app.extensions import db
from app.services import complaints
from app.services.complaints import Submission
from app.services.uow import run_command
from app.services.uploads import remove_orphans
from tests.customer.conftest import image_bytes


def _submission(**changes: Any) -> Submission:
    values: dict[str, Any] = {"order_ref": "O-1", "category": "product.quality", "description": "杯子有裂纹",
                              "images": [image_bytes(), image_bytes("JPEG")]}
    values.update(changes)
    return Submission(**values)


def _files(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


def _aged(path: Path, clock: Any, **age: float) -> Path:
    stamp = (clock.now() - timedelta(**age)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_a_submit_whose_process_cannot_start_leaves_no_photo(make_customer, upload_dir: Path, clock) -> None:
    customer = make_customer()   # no `driver`: complaint_handling is not deployed, so starting it fails
    with pytest.raises(KesuError):
        run_command(lambda: complaints.submit(customer, _submission(), upload_dir=upload_dir, now=clock.now()))
    assert _files(upload_dir) == [], "the photos written before the failure are removed with the rollback"


def test_a_unit_of_work_failing_after_the_submit_removes_its_photos(driver, make_customer, upload_dir: Path,
                                                                    clock) -> None:
    customer = make_customer()

    def submit_then_fail() -> None:
        complaints.submit(customer, _submission(), upload_dir=upload_dir, now=clock.now())
        assert len(_files(upload_dir)) == 2
        raise RuntimeError("the commit lost a race")

    with pytest.raises(RuntimeError):
        run_command(submit_then_fail)
    assert _files(upload_dir) == []


def test_committed_photos_stay_after_later_rollbacks(driver, make_customer, upload_dir: Path, clock) -> None:
    customer = make_customer()
    complaint, _created = run_command(lambda: complaints.submit(customer, _submission(), upload_dir=upload_dir,
                                                                now=clock.now()))
    db.session.rollback()
    with db.session.begin_nested():
        pass
    db.session.rollback()
    assert sorted(p.name for p in _files(upload_dir)) == sorted(a.stored_name for a in complaint.attachments)


def _orphan_scene(driver: Any, make_customer: Any, upload_dir: Path, clock: Any) -> dict[str, Path]:
    customer = make_customer()
    complaint, _created = run_command(lambda: complaints.submit(customer, _submission(images=[image_bytes()]),
                                                                upload_dir=upload_dir, now=clock.now()))
    attached = _aged(upload_dir / complaint.attachments[0].stored_name, clock, days=3)
    old_orphan = _aged(_write(upload_dir / ("a" * 32 + ".jpg"), "left by a crashed submit"), clock, hours=25)
    fresh_orphan = _aged(_write(upload_dir / ("b" * 32 + ".png"), "a submit in progress"), clock, minutes=5)
    other = _aged(_write(upload_dir / "README.txt", "not a photo"), clock, days=30)
    return {"attached": attached, "old": old_orphan, "fresh": fresh_orphan, "other": other}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_orphans_older_than_a_day_are_removed_and_nothing_else(driver, make_customer, upload_dir: Path,
                                                               clock) -> None:
    scene = _orphan_scene(driver, make_customer, upload_dir, clock)
    listed = remove_orphans(upload_dir, now=clock.now(), older_than=timedelta(hours=24), dry_run=True)
    assert listed == [scene["old"]] and scene["old"].exists(), "a dry run only lists"
    assert remove_orphans(upload_dir, now=clock.now(), older_than=timedelta(hours=24)) == [scene["old"]]
    assert not scene["old"].exists()
    assert all(scene[k].exists() for k in ("attached", "fresh", "other"))
    assert remove_orphans(upload_dir / "missing", now=clock.now(), older_than=timedelta(hours=24)) == []


def test_the_cli_lists_with_dry_run_and_then_removes(cli_runner, driver, make_customer, upload_dir: Path,
                                                     clock) -> None:
    scene = _orphan_scene(driver, make_customer, upload_dir, clock)
    dry = cli_runner.invoke(args=["complaints", "cleanup-uploads", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"would remove {scene['old']}" in dry.output and "dry run: nothing removed" in dry.output
    assert scene["old"].exists()
    done = cli_runner.invoke(args=["complaints", "cleanup-uploads"])
    assert done.exit_code == 0 and "1 orphaned photo(s) older than 24 h" in done.output
    assert not scene["old"].exists() and scene["fresh"].exists() and scene["attached"].exists()
    sooner = cli_runner.invoke(args=["complaints", "cleanup-uploads", "--older-than-hours", "0"])
    assert sooner.exit_code == 0 and not scene["fresh"].exists() and scene["attached"].exists()
    bad = cli_runner.invoke(args=["complaints", "cleanup-uploads", "--older-than-hours", "-1"])
    assert bad.exit_code == 2 and "-1" in bad.output


def test_the_hourly_chore_removes_orphans(app: Flask, driver, make_customer, upload_dir: Path, clock) -> None:
    scene = _orphan_scene(driver, make_customer, upload_dir, clock)
    chore = app.extensions["kesu.runtime"].chores["uploads.cleanup"]
    assert chore.every_seconds == 3600
    run_command(lambda: chore.handler(clock.now()))
    assert not scene["old"].exists() and scene["fresh"].exists() and scene["attached"].exists()

"""Complaint photo files on disk: written with the unit of work, removed when it rolls back or is orphaned.

A photo file is written before its ``ComplaintAttachment`` row is committed. If the unit of
work then rolls back (a refused submission, a failed process start, a commit that lost a race),
``store_with_unit`` removes the files it wrote. What can still be left behind (the process died
between the write and the commit) is found by ``remove_orphans``: a file in the upload folder
with no attachment row, older than ``UPLOAD_ORPHAN_HOURS``; the ``uploads.cleanup`` chore and
``flask --app wsgi complaints cleanup-uploads`` run it.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db
from app.models.complaint import ComplaintAttachment
from app.services.images import CleanImage, store_image

STORED_NAME = re.compile(r"[0-9a-f]{32}\.(?:jpg|png|webp)")   # what store_image writes, nothing else
WRITTEN_KEY = "kesu.written_files"
CLEANUP_EVERY_SECONDS = 3600
BATCH = 500
log = logging.getLogger(__name__)


def upload_folder() -> Path:
    """Return the folder complaint photos are stored in (outside the static folder)."""
    return Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads")


def store_with_unit(image: CleanImage, folder: Path) -> str:
    """Store the image (``store_image``) and remove the file again if the unit of work rolls back."""
    name = store_image(image, folder)
    session = db.session()
    if not event.contains(session, "after_soft_rollback", _remove_written):
        event.listen(session, "after_soft_rollback", _remove_written)
        event.listen(session, "after_commit", _forget_written)
    session.info.setdefault(WRITTEN_KEY, []).append(folder / name)
    return name


def _remove_written(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is not None:      # a savepoint: the unit of work goes on
        return
    for path in session.info.pop(WRITTEN_KEY, []):
        path.unlink(missing_ok=True)


def _forget_written(session: Session) -> None:
    session.info.pop(WRITTEN_KEY, None)


def remove_orphans(folder: Path, *, now: datetime, older_than: timedelta, dry_run: bool = False) -> list[Path]:
    """Remove (or with ``dry_run`` only list) stored photos older than ``older_than`` with no attachment row."""
    cutoff = (now - older_than).timestamp()
    candidates = [path for path in _stored_files(folder) if path.stat().st_mtime < cutoff]
    orphans = []
    for start in range(0, len(candidates), BATCH):
        batch = {path.name: path for path in candidates[start:start + BATCH]}
        known = set(db.session.execute(select(ComplaintAttachment.stored_name)
                                       .where(ComplaintAttachment.stored_name.in_(batch))).scalars())
        orphans.extend(path for name, path in batch.items() if name not in known)
    if not dry_run:
        for path in orphans:
            path.unlink(missing_ok=True)
        if orphans:
            log.info("removed %d orphaned upload(s) from %s", len(orphans), folder)
    return orphans


def _stored_files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.is_file() and STORED_NAME.fullmatch(path.name):
            yield path


def cleanup_chore(now: datetime) -> None:
    """Run by the scheduler: remove orphaned photos older than UPLOAD_ORPHAN_HOURS."""
    hours = int(current_app.config.get("UPLOAD_ORPHAN_HOURS", 24))
    remove_orphans(upload_folder(), now=now, older_than=timedelta(hours=hours))


def register_upload_cleanup(runtime: Any) -> None:
    """Register the hourly orphaned-upload chore."""
    runtime.register_chore("uploads.cleanup", cleanup_chore, every_seconds=CLEANUP_EVERY_SECONDS)

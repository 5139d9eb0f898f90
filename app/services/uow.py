"""The unit of work: commit what a command did, retrying it when another writer won the race."""
from __future__ import annotations

from typing import Callable, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.errors import Conflict
from app.extensions import db

T = TypeVar("T")


def run_command(command: Callable[[], T], *, retries: int = 3) -> T:
    """Run ``command`` and commit; on a concurrent-update conflict roll back and run it again.

    Only the owner of the unit of work (a view, a CLI command, a job) calls this.
    """
    for attempt in range(retries + 1):
        try:
            result = command()
            db.session.commit()
            return result
        except StaleDataError:
            db.session.rollback()
        except IntegrityError as error:
            db.session.rollback()
            if "process_event" not in str(error.orig) and "uq_process_event" not in str(error.orig):
                raise
        except Exception:
            db.session.rollback()
            raise
    raise Conflict("someone else changed this at the same moment several times in a row; "
                   "reload and try again")

"""Staff administration and who a person stands in for: roles, groups, out-of-office substitutes.

Group membership stays the ``User.groups`` list that the foundation, the API and the engine's
candidate groups already read; the admin page edits it. Task lists compute visibility from it
at query time, so a membership change reaches every open task at once (nothing is copied onto
tasks); tasks someone holds in a group they left go back to that group's queue in the same change. Substitutes are rows with a time window, read the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select, update

from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import GROUPS, ROLES, HumanTask, Substitution, TaskStatus, User
from app.services import audit
from app.services.shop_time import shop_time, shop_zone_label


@dataclass(frozen=True)
class Identity:
    """Whose tasks a user may see and work right now: their own and those of people they stand in for."""

    username: str
    usernames: tuple[str, ...]
    groups: tuple[str, ...]
    is_supervisor: bool
    works_tasks: bool = True   # holds a task role (TASK_ROLES); analysts and auditors alone do not


def identity(user: User, *, now: datetime) -> Identity:
    """Return the user's own name and groups plus those of everyone they substitute for at ``now``."""
    absent = list(db.session.execute(select(Substitution.absent_username).where(
        Substitution.substitute_username == user.username, Substitution.ends_at > now,
        Substitution.starts_at <= now)).scalars())
    groups = set(user.groups or [])
    if absent:
        for member_groups in db.session.execute(select(User.groups).where(User.username.in_(absent))).scalars():
            groups.update(member_groups or [])
    return Identity(user.username, (user.username, *sorted(set(absent))), tuple(sorted(groups)),
                    user.has_role("supervisor"), any(user.has_role(role) for role in TASK_ROLES))


def list_staff() -> list[User]:
    """Return every staff account by username."""
    return list(db.session.execute(select(User).order_by(User.username)).scalars())


# The roles whose holders open the task pages (admins hold every role); only they can be given a task.
TASK_ROLES = ("agent", "expert", "qa", "supervisor", "finance")


def works_tasks(user: User) -> bool:
    """Whether ``user`` is an active account that can open and work tasks (not an analyst or auditor only)."""
    return bool(user.is_active_account) and any(user.has_role(role) for role in TASK_ROLES)


def task_workers() -> list[User]:
    """Return the active staff who can be given a task, by username."""
    return [user for user in list_staff() if works_tasks(user)]


def update_staff(username: str, *, roles: list[str], groups: list[str], is_active: bool, actor: str,
                 now: datetime) -> tuple[User, int]:
    """Set a staff member's roles, groups and whether they may sign in; return them and how many tasks went back.

    Open tasks they hold but may no longer work (a group they left; every task when deactivated) go back
    to their group's queue at once, each unclaim in the audit chain.
    """
    user = _user(username)
    problems = {}
    if unknown := sorted(set(roles) - set(ROLES)):
        problems["roles"] = f"unknown role {', '.join(unknown)}; choose from {', '.join(ROLES)}"
    if unknown := sorted(set(groups) - set(GROUPS)):
        problems["groups"] = f"unknown group {', '.join(unknown)}; choose from {', '.join(GROUPS)}"
    if user.is_active_account and user.has_role("admin") and not (is_active and "admin" in roles) and not any(
            other.id != user.id and other.is_active_account and other.has_role("admin") for other in list_staff()):
        problems["admin" if "admin" not in roles else "active"] = (
            f"{username} 是唯一有效的管理员，请先把管理员角色给另一位员工 / {username} is the last active admin; "
            f"give another staff member the admin role first, or nobody can manage staff any more")
    if problems:
        raise ValidationFailed(f"{username} was not changed", fields=problems)
    user.roles, user.groups, user.is_active_account = sorted(set(roles)), sorted(set(groups)), is_active
    db.session.flush()
    audit.record_system_event("staff.updated", {"username": username, "roles": user.roles, "groups": user.groups,
                                                "active": is_active}, actor=actor, now=now)
    return user, _release_tasks(user, actor=actor, now=now)


def _release_tasks(user: User, *, actor: str, now: datetime) -> int:
    held = select(HumanTask).where(HumanTask.assignee == user.username, HumanTask.status == TaskStatus.OPEN.value)
    if user.is_active_account:
        if user.has_role("supervisor"):
            return 0  # supervisors may work any task
        held = held.where(HumanTask.candidate_group.is_not(None), HumanTask.candidate_group.not_in(user.groups or []))
    tasks = list(db.session.execute(held.order_by(HumanTask.id)).scalars())
    for task in tasks:
        db.session.execute(update(HumanTask).where(HumanTask.id == task.id, HumanTask.assignee == user.username,
                                                   HumanTask.status == TaskStatus.OPEN.value)
                           .values(assignee=None, claimed_at=None).execution_options(synchronize_session=False))
        db.session.refresh(task)
        audit.record_assignment("unclaimed", task, user.username, actor=actor, now=now)
    return len(tasks)


def add_substitution(absent: str, substitute: str, *, starts_at: datetime, ends_at: datetime, actor: str,
                     now: datetime, may_cover_others: bool = True) -> Substitution:
    """Let ``substitute`` see and work ``absent``'s tasks between the two times.

    Without ``may_cover_others`` (agents) the actor may only arrange cover for themselves.
    """
    if not may_cover_others and absent != actor:
        raise PermissionDenied("you can arrange a substitute for your own absence only; ask a supervisor "
                               "to arrange one for a colleague")
    problems = {}
    if absent == substitute:
        problems["substitute"] = "choose someone other than the absent person"
    if ends_at <= starts_at:
        problems["ends_at"] = "the end must be after the start"
    if problems:
        raise ValidationFailed("the substitute was not added", fields=problems)
    _user(absent), _user(substitute)
    row = Substitution(absent_username=absent, substitute_username=substitute, starts_at=starts_at,
                       ends_at=ends_at, created_by=actor, created_at=now)
    db.session.add(row)
    db.session.flush()
    _record("substitution.added", row, actor=actor, now=now)
    return row


def end_substitution(substitution_id: int, *, actor: str, is_overseer: bool, now: datetime) -> Substitution:
    """End a substitution early: one not yet started is removed, a running one ends ``now``.

    The absent person, whoever arranged it, supervisors and admins may; the tasks go back to the
    absent person's own list at once (visibility is computed from the window at query time).
    """
    row = db.session.get(Substitution, substitution_id)
    if row is None:
        raise NotFound(f"substitution {substitution_id} does not exist; it may have been removed already")
    if not is_overseer and actor not in (row.absent_username, row.created_by):
        raise PermissionDenied("only the absent person, whoever arranged the substitute, or a supervisor "
                               "can end it")
    if row.ends_at <= now:
        raise Conflict(f"this substitution already ended at {shop_time(row.ends_at)} ({shop_zone_label(now)})")
    if row.starts_at >= now:
        _record("substitution.removed", row, actor=actor, now=now)
        db.session.delete(row)
    else:
        row.ends_at = now
        _record("substitution.ended", row, actor=actor, now=now)
    db.session.flush()
    return row


def _record(event_type: str, row: Substitution, *, actor: str, now: datetime) -> None:
    audit.record_system_event(event_type, {
        "substitution_id": row.id, "absent": row.absent_username, "substitute": row.substitute_username,
        "starts_at": row.starts_at.isoformat(), "ends_at": row.ends_at.isoformat()}, actor=actor, now=now)


def current_substitutions(*, now: datetime, involving: str | None = None) -> list[Substitution]:
    """Return the substitutions that have not ended yet, soonest first (only ``involving``'s if given)."""
    statement = _involving(select(Substitution).where(Substitution.ends_at > now), involving)
    return list(db.session.execute(statement.order_by(Substitution.starts_at, Substitution.id)).scalars())


def past_substitutions(*, now: datetime, involving: str | None = None, limit: int = 50) -> list[Substitution]:
    """Return the substitutions that have ended, most recent first (only ``involving``'s if given)."""
    statement = _involving(select(Substitution).where(Substitution.ends_at <= now), involving)
    return list(db.session.execute(statement.order_by(Substitution.ends_at.desc(), Substitution.id.desc())
                                   .limit(limit)).scalars())


def _involving(statement: Select[tuple[Substitution]], username: str | None) -> Select[tuple[Substitution]]:
    if username is None:
        return statement
    return statement.where(or_(Substitution.absent_username == username, Substitution.substitute_username == username,
                               Substitution.created_by == username))


def _user(username: str) -> User:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no staff member is called {username}; check the list on /admin/users")
    return user

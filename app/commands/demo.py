"""`flask demo load`: demo staff and a few running complaints for the embedded default."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from app.models import ProcessInstance, User
from app.runtime import get_runtime
from app.services import processes
from app.services.uow import run_command

cli = AppGroup("demo", help="Demo data for trying Kesu out.")

DEMO_STAFF = [
    ("xiaowang", "小王", ["agent"], ["tier1-product"]),
    ("xiaoli", "小李", ["agent"], ["tier1-logistics", "tier1-billing"]),
    ("laozhang", "老张", ["expert"], ["tier2"]),
    ("qa.chen", "陈质检", ["qa"], ["qa"]),
    ("zhuguan", "赵主管", ["supervisor"], ["supervisors"]),
    ("caiwu", "财务钱", ["finance"], ["finance"]),
    ("analyst", "分析师林", ["analyst"], []),
    ("auditor", "审计周", ["auditor"], []),
    ("admin", "管理员", ["admin"], []),
]

DEMO_COMPLAINTS = [
    {"complaint_id": "DEMO-1", "order_id": "O-1001", "text": "收到的苹果全是烂的，太失望了", "amount": 36.5,
     "chosen_category": "product.quality", "customer_tier": "normal", "images": 2, "recent_complaints": 0},
    {"complaint_id": "DEMO-2", "order_id": "O-1002", "text": "快递一个星期还没到，客服也不回复！！", "amount": 899.0,
     "chosen_category": "delivery.late", "customer_tier": "vip", "images": 0, "recent_complaints": 1},
    {"complaint_id": "DEMO-3", "order_id": "O-1003", "text": "刚买就降价两百，申请保价被拒", "amount": 1299.0,
     "chosen_category": "order.price", "customer_tier": "normal", "images": 0, "recent_complaints": 0},
]


@cli.command("load")
@click.option("--password", default="kesu-demo", show_default=True, help="Password of every demo account.")
def load_command(password: str) -> None:
    """Create demo staff and start demo complaints, once (a second run changes nothing)."""
    if db.session.execute(select(func.count(User.id))).scalar():
        click.echo("demo data already loaded")
        return
    now = get_runtime().clock.now()

    def load() -> int:
        for username, name, roles, groups in DEMO_STAFF:
            user = User(username=username, display_name=name, roles=roles, groups=groups, created_at=now)
            user.set_password(password)
            db.session.add(user)
        for data in DEMO_COMPLAINTS:
            processes.start_instance("complaint_handling", dict(data), actor="demo", now=now,
                                     business_key=data["complaint_id"])
        return db.session.execute(select(func.count(ProcessInstance.id))).scalar() or 0

    started = run_command(load)
    click.echo(f"demo data loaded: {len(DEMO_STAFF)} staff accounts (password '{password}'), "
               f"{started} complaint instance(s)")

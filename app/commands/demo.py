"""`flask demo load`: demo staff and a few running complaints for the embedded default."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from app.models import ProcessInstance, User
from app.runtime import get_runtime
from app.services import processes
from app.services.demo_customers import load_demo_customers
from app.services.demo_history import load_demo_history
from app.services.demo_knowledge import load_demo_articles
from app.services.uow import run_command

cli = AppGroup("demo", help="Demo data for trying Kesu out.")

DEMO_STAFF = [
    ("xiaowang", "小王", ["agent"], ["tier1-product"]),
    ("xiaoli", "小李", ["agent"], ["tier1-logistics", "tier1-billing"]),
    ("laozhang", "老张", ["expert"], ["tier2"]),
    ("qa.chen", "陈质检", ["qa"], ["qa"]),
    ("zhuguan", "赵主管", ["supervisor"], ["supervisors", "team-leads"]),
    ("caiwu", "财务钱", ["finance"], ["finance"]),
    ("analyst", "分析师林", ["analyst"], []),
    ("auditor", "审计周", ["auditor"], []),
    ("admin", "管理员", ["admin"], []),
]


def _complaint(complaint_id: str, order_ref: str, text: str, amount_paid: float, category: str, tier: str,
               images: int, recent: int) -> dict[str, object]:
    """Start data as intake passes it to complaint_handling (see docs/processes.md)."""
    return {"complaint_id": complaint_id, "order_ref": order_ref, "payment_id": None, "amount_paid": amount_paid,
            "already_refunded": 0.0, "currency": "CNY", "chosen_category": category, "text": text,
            "images": images, "customer_id": f"demo-customer-{complaint_id[-1]}", "customer_tier": tier,
            "recent_complaints": recent, "recent_auto_refunds": 0}


DEMO_COMPLAINTS = [
    _complaint("DEMO-1", "O-1001", "收到的苹果全是烂的，太失望了", 36.5, "product.quality", "normal", 2, 0),
    _complaint("DEMO-2", "O-1002", "快递一个星期还没到，客服也不回复！！", 899.0, "delivery.late", "vip", 0, 1),
    _complaint("DEMO-3", "O-1003", "刚买就降价两百，申请保价被拒", 1299.0, "order.price", "normal", 0, 0),
]


@cli.command("load")
@click.option("--password", default="kesu-demo", show_default=True, help="Password of every demo account.")
def load_command(password: str) -> None:
    """Create demo staff, customers with orders, and demo complaints, once (a second run changes nothing)."""
    now = get_runtime().clock.now()
    added = run_command(lambda: load_demo_customers(password, now=now))
    articles = run_command(lambda: load_demo_articles(now=now))
    if articles:
        click.echo(f"knowledge base: {articles} demo article(s) published (search them at /kb)")
    if added:
        click.echo(f"demo customers: {added} order(s) added (sign in at /account/login, phone 13800000001, "
                   f"password '{password}')")
    history = run_command(lambda: load_demo_history(now=now))
    if history:
        click.echo(f"demo history: {history} closed complaint(s) over the past 8 weeks (see /dashboard)")
    if db.session.execute(select(func.count(User.id))).scalar():
        click.echo("demo data already loaded")
        return

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

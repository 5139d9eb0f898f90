"""Time knowledge-base search and the minute alert chore on a database holding N archived cases.

    .venv/bin/python bench/kb_search.py [--n 200000]      (PostgreSQL when DATABASE_URL is set)

Fills knowledge_case with N cases and kb_article with 500 articles of generated Chinese and
English text (Core executemany in batches; the SQLite triggers keep the FTS5 table), then times
search() for a 3+ character Chinese query, a 2-character one (the LIKE fallback: a scan),
English, a customer's complaint text over published articles, and a task's complaint text over
cases (p50/p95 over QUERIES runs each). Last line: JSON.
"""
from __future__ import annotations

import _paths  # noqa: F401  (first: fixes sys.path for bench scripts)

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import insert  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models.knowledge import KbArticle, KnowledgeCase  # noqa: E402
from app.services import kb_suggestions  # noqa: E402
from app.services.kb_search import search  # noqa: E402
from bench._common import bench_app, timed  # noqa: E402

BATCH, QUERIES, ARTICLES = 20_000, 50, 500
PHRASES = ("快递一直没到", "包装破损严重", "商品有质量问题", "申请退款", "发错了颜色", "缺斤少两", "价格降了要求保价",
           "客服态度不好", "物流信息不更新", "杯子有裂纹", "苹果全是烂的", "耳机没有声音", "空气炸锅不加热")
WORDS = ("refund", "parcel", "late", "damaged", "broken", "quality", "price", "wrong", "colour", "support")
CATEGORIES = ("product.quality", "delivery.late", "delivery.damaged", "delivery.wrong", "order.price")


def _text(rng: random.Random) -> str:
    return "，".join(rng.sample(PHRASES, 3)) + " " + " ".join(rng.sample(WORDS, 2))


def fill(n: int, now: Any) -> None:
    """Insert n archived cases and the articles."""
    rng = random.Random(11)
    for start in range(1, n + 1, BATCH):
        db.session.execute(insert(KnowledgeCase.__table__), [{
            "id": i, "complaint_id": f"C-{i}", "category": rng.choice(CATEGORIES), "resolution": "refund",
            "reply": "您好，已为您处理：" + _text(rng), "summary": _text(rng),
            "created_at": now - timedelta(minutes=i)} for i in range(start, min(start + BATCH, n + 1))])
        db.session.commit()
    db.session.execute(insert(KbArticle.__table__), [{
        "id": i, "title": rng.choice(PHRASES) + f" {i}", "body": _text(rng), "category": rng.choice(CATEGORIES),
        "tags": "", "language": "zh", "status": "published", "created_by": "bench", "created_at": now,
        "updated_by": "bench", "updated_at": now - timedelta(minutes=i)} for i in range(1, ARTICLES + 1)])
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="archived cases")
    args = parser.parse_args()
    app, clock = bench_app("kb")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        started = time.perf_counter()
        fill(args.n, clock.now())
        filled = time.perf_counter() - started
        results = {
            "zh_trigram": timed(lambda: search("空气炸锅不加热", limit=10), QUERIES),
            "zh_two_chars": timed(lambda: search("裂纹", limit=10), QUERIES),
            "english": timed(lambda: search("damaged parcel", limit=10), QUERIES),
            "customer_suggestion": timed(lambda: kb_suggestions.for_customer("收到的杯子有裂纹，要求退款", None), QUERIES),
            "task_cases": timed(lambda: search("收到的杯子有裂纹，要求退款", kinds=("case",), published_only=False,
                                               limit=5, min_score=2), QUERIES),
        }
        db.session.remove()
    print(f"filled {args.n} cases and {ARTICLES} articles in {filled:.1f} s on {url.split(':')[0]}")
    for name, numbers in results.items():
        print(f"{name:20s} p50 {numbers['p50_ms']:8.2f} ms   p95 {numbers['p95_ms']:8.2f} ms")
    print(json.dumps({"n": args.n, "database": url.split(":")[0], "fill_seconds": round(filled, 1), **results}))


if __name__ == "__main__":
    main()

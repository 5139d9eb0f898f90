"""Chinese and English on the customer side: Accept-Language, the switcher, messages, timeline, catalogues."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask

from app.extensions import db
from app.i18n import TRANSLATIONS, compile_catalogues
from app.models import Refund, User
from app.services import orders, processes
from app.services.complaint_timeline import progress
from app.services.uow import run_command
from tests.customer.conftest import image_bytes
from tests.customer.test_portal import csrf, sign_in, submit

ROOT = Path(__file__).resolve().parents[2]
EN = {"Accept-Language": "en-US,en;q=0.9"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def _complaint(client, make_customer) -> str:  # type: ignore[no-untyped-def]
    make_customer()
    sign_in(client)
    sent = submit(client, images=[image_bytes()])
    assert sent.status_code == 302, sent.text
    return sent.headers["Location"]


def test_the_same_complaint_page_in_chinese_and_in_english(client, driver, make_customer, upload_dir) -> None:
    page = _complaint(client, make_customer)
    chinese = client.get(page, headers=ZH).text
    english = client.get(page, headers=EN).text
    assert '<html lang="zh-CN">' in chinese and "进度" in chinese and "处理中" in chinese
    assert "您的投诉已提交，我们已收到" in chinese and "我们将在" in chinese
    assert '<html lang="en">' in english and "Timeline" in english and "Processing" in english
    assert "Your complaint has been submitted and received" in english and "We will reply by <strong>" in english
    assert "您的投诉已提交" not in english and "Timeline" not in chinese
    client.post("/language", data={"csrf_token": csrf(client, page), "lang": "en", "next": page})
    assert "Your complaint has been submitted and received" in client.get(page, headers=ZH).text, \
        "the switcher's choice wins over the browser's language"


def test_chinese_when_nothing_matches_or_nothing_is_asked(client, driver, make_customer, upload_dir) -> None:
    page = _complaint(client, make_customer)
    for headers in ({}, {"Accept-Language": "fr-FR,de;q=0.8"}, {"Accept-Language": "zh-TW,zh;q=0.9"}):
        assert "您的投诉已提交" in client.get(page, headers=headers).text, headers
    assert "Sign in" in client.get("/account/login", headers={"Accept-Language": "de, en-GB;q=0.5"}).text


def test_the_switcher_choice_wins_over_the_browser_and_can_be_undone(client, make_customer) -> None:
    token = csrf(client, "/account/login")
    buttons = re.findall(r'<button type="submit" name="lang" value="(\w+)"([^>]*)>',
                         client.get("/account/login", headers=ZH).text)
    assert [(code, "aria-current" in attrs) for code, attrs in buttons] == [("zh_CN", True), ("en", False)], \
        "the switcher in the header marks the current language"
    chosen = client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/account/login?x=1"},
                         headers=ZH)
    assert chosen.status_code == 302 and chosen.headers["Location"] == "/account/login?x=1"
    page = client.get("/account/login", headers=ZH).text
    assert "With a one-time link" in page and "免密登录" not in page
    back = client.post("/language", data={"csrf_token": token, "lang": "zh_CN", "next": "https://evil.example/"})
    assert back.headers["Location"] == "/complaints", "next= only within this site"
    assert "免密登录" in client.get("/account/login", headers=EN).text
    client.post("/language", data={"csrf_token": token, "lang": "klingon"})
    assert "With a one-time link" in client.get("/account/login", headers=EN).text, "unknown: back to the browser's"


def test_the_switcher_needs_the_csrf_token(client) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 400


def test_a_validation_message_in_both_languages(client, driver, make_customer, upload_dir) -> None:
    make_customer()
    sign_in(client)
    token = csrf(client, "/complaints/new")
    form = {"csrf_token": token, "order_ref": "O-1", "category": "product.quality", "description": "坏" * 301}
    chinese = client.post("/complaints/new", data=form, headers=ZH)
    english = client.post("/complaints/new", data=form, headers=EN)
    assert chinese.status_code == english.status_code == 422
    assert "共 301 个字，最多 300 个字" in chinese.text and "投诉未提交，请修改下列内容。" in chinese.text
    assert "is 301 characters; write at most 300" in english.text
    assert "The complaint was not sent; correct the fields below." in english.text
    wrong = client.post("/account/login", data={"csrf_token": token, "login": "13800000001", "password": "x"},
                        headers=EN)
    assert "Wrong phone/email or password" in wrong.text


def test_the_form_shows_the_taxonomy_and_shortcuts_in_the_language(client, make_customer) -> None:
    make_customer()
    sign_in(client)
    chinese, english = (client.get("/complaints/new", headers=h).text for h in (ZH, EN))
    assert ">商品问题<" in chinese and ">质量问题<" in chinese and "缺货反馈" in chinese
    assert ">Product<" in english and ">Quality defect<" in english and "Out of stock" in english
    assert "质量问题" not in english


def test_timeline_sentences_in_both_languages(app: Flask, client, driver, make_customer, upload_dir, clock) -> None:
    page = _complaint(client, make_customer)
    complaint_id = int(page.rsplit("/", 1)[1])
    agent = User(username="xiaowang", display_name="小王", roles=["agent"], groups=["service"], created_at=clock.now())
    agent.set_password("agent-password")
    db.session.add(agent)
    db.session.flush()
    from app.models.complaint import Complaint
    complaint = db.session.get(Complaint, complaint_id)
    task = driver.task(complaint.instance_id, "handle")
    run_command(lambda: processes.claim_task(task.task_id, user="xiaowang", now=clock.now()))
    payment = orders.payment_for(complaint.order)
    db.session.add(Refund(payment_id=payment.id, provider="alipay", amount=Decimal("25.80"), currency="CNY",
                          state="succeeded", idempotency_key="k-1", source_key="i18n-test-1", requested_by="system",
                          complaint_id=complaint.reference, created_at=clock.now(), updated_at=clock.now(),
                          finished_at=clock.now()))
    db.session.commit()
    chinese = client.get(page, headers=ZH).text
    english = client.get(page, headers=EN).text
    assert "客服小王已接收您的问题" in chinese and "系统已自动为您退款 ¥25.80，已到账" in chinese
    assert "Agent 小王 has received your question" in english
    assert "The system refunded ¥25.80 to you automatically, received" in english
    with app.test_request_context(headers=EN):
        assert "Agent 小王 has received your question" in [e.text for e in progress(complaint).timeline]
    with app.test_request_context(headers=ZH):
        assert progress(complaint).refunds[0]["state_label"] == "已到账"


def _catalogues() -> list[Path]:
    found = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    assert found, f"no catalogues under {TRANSLATIONS}"
    return found


def test_every_msgid_in_the_catalogues_has_a_translation_with_the_same_placeholders() -> None:
    for path in _catalogues():
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if not message.id:
                continue
            assert message.string, f"{path}: no translation for {message.id!r}"
            assert not message.fuzzy, f"{path}: fuzzy translation for {message.id!r}; check it and drop the flag"
            wanted = sorted(re.findall(r"%\(\w+\)[sd]", message.id))
            assert sorted(re.findall(r"%\(\w+\)[sd]", message.string)) == wanted, \
                f"{path}: {message.id!r} and its translation use different placeholders"


def test_every_string_marked_in_the_code_is_in_every_catalogue() -> None:
    method_map = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    marked = {message for _file, _line, message, _comments, _context
              in extract_from_dir(str(ROOT), method_map, keywords=keywords) if isinstance(message, str)}
    assert "Your complaint has been submitted and received" in marked
    for path in _catalogues():
        with path.open("rb") as handle:
            known = {message.id for message in read_po(handle) if message.id}
        missing = sorted(marked - known)
        assert not missing, f"{path} lacks {missing}: run `make translations` and translate them"


def test_a_stale_catalogue_is_compiled_on_start(tmp_path: Path) -> None:
    target = tmp_path / "zh_Hans_CN" / "LC_MESSAGES"
    target.mkdir(parents=True)
    source = _catalogues()[0]
    (target / "messages.po").write_bytes(source.read_bytes())
    assert compile_catalogues(tmp_path) == [target / "messages.mo"]
    assert compile_catalogues(tmp_path) == [], "an up-to-date .mo is left alone"
    assert (target / "messages.mo").stat().st_size > 1000

"""The studio in Chinese (the default) and in English: pages, flashes, errors, the editor's script words."""
from __future__ import annotations

import io
import json
import re

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.extensions import db
from app.services import studio
from tests.support.language import EN, ZH
from tests.support.studio import deploy_leave, leave_files, make_draft


def _strings(page: str) -> dict[str, str]:
    found = re.search(r'<script type="application/json" id="page-strings">(.*?)</script>', page, re.S)
    assert found, "the page carries its scripts' words as JSON"
    return json.loads(found.group(1))


def test_the_library_is_chinese_by_default_and_english_when_asked(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    deploy_leave(clock.now())
    make_draft(leave_files(), clock.now(), name="faster")
    db.session.commit()
    for headers in ({}, ZH, {"Accept-Language": "fr-FR"}):
        chinese = analyst_client.get("/studio", headers=headers).get_data(as_text=True)
        assert '<html lang="zh-CN">' in chinese and "<h1>分析师工作室</h1>" in chinese, headers
        assert ">创建草稿</button>" in chinese and "<th>批准人</th>" in chinese and ">决策表</h2>" in chinese
        assert 'class="status status-draft">草稿</span>' in chinese and "Analyst studio" not in chinese
    english = analyst_client.get("/studio", headers=EN).get_data(as_text=True)
    assert '<html lang="en">' in english and "<h1>Analyst studio</h1>" in english
    assert ">Create draft</button>" in english and 'class="status status-draft">draft</span>' in english
    assert "分析师工作室" not in english


def test_the_header_switcher_chooses_english_over_the_browser(analyst_client) -> None:  # type: ignore[no-untyped-def]
    page = analyst_client.get("/studio", headers=ZH).get_data(as_text=True)
    buttons = re.findall(r'<button type="submit" name="lang" value="(\w+)"([^>]*)>', page)
    assert [(code, "aria-current" in attrs) for code, attrs in buttons] == [("zh_CN", True), ("en", False)]
    chosen = analyst_client.post("/language", data={"lang": "en", "next": "/studio"})
    assert chosen.status_code == 302 and chosen.headers["Location"] == "/studio"
    assert "<h1>Analyst studio</h1>" in analyst_client.get("/studio", headers=ZH).get_data(as_text=True)
    assert 'name="lang"' not in analyst_client.get("/tasks").get_data(as_text=True), \
        "pages still written in both languages show no switcher"


def _import(client, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    data = leave_files()["bpmn/leave_request.bpmn"].encode()
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(data), filename="leave.bpmn")}))
    return client.post("/studio/import", data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       headers=headers, follow_redirects=True)


def test_a_flash_and_a_validation_error_in_both_languages(analyst_client) -> None:  # type: ignore[no-untyped-def]
    chinese, english = _import(analyst_client, ZH), _import(analyst_client, EN)
    assert re.search(r'<p class="flash">已导入 leave.bpmn：\d+ 个校验问题。</p>', chinese.get_data(as_text=True))
    assert re.search(r'<p class="flash">Imported leave.bpmn: \d+ validation problem\(s\).</p>',
                     english.get_data(as_text=True))
    unnamed = {"name": " ", "base_version": "0"}
    refused = analyst_client.post("/studio/drafts", data=unnamed)
    assert refused.status_code == 422 and "请给草稿起一个 1 到 120 个字符的名称" in refused.get_data(as_text=True)
    refused = analyst_client.post("/studio/drafts", data=unnamed, headers={"Accept": "application/json", **EN})
    assert refused.status_code == 422 and refused.get_json()["detail"] == "give the draft a name of 1 to 120 characters"


def test_the_four_eyes_refusal_and_the_draft_page_in_both_languages(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft(leave_files(), clock.now(), name="mine")
    studio.request_review(draft.id, actor="li", now=clock.now())
    db.session.commit()
    page = analyst_client.get(f"/studio/drafts/{draft.id}").get_data(as_text=True)
    assert '<span class="status status-in_review">审核中</span>' in page and 'id="approve">批准</button>' in page
    assert "由 li 提交审核。" in page
    chinese = analyst_client.post(f"/studio/drafts/{draft.id}/approve")
    assert chinese.status_code == 403 and "必须由另一位分析师审核并批准（四眼原则）" in chinese.get_data(as_text=True)
    english = analyst_client.post(f"/studio/drafts/{draft.id}/approve", headers=EN)
    assert "another analyst must review and approve it (four-eyes rule)" in english.get_data(as_text=True)
    assert "Review asked by li." in analyst_client.get(f"/studio/drafts/{draft.id}", headers=EN).get_data(as_text=True)


def test_the_editor_gives_its_scripts_their_words_in_the_language(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    draft = make_draft(leave_files(), clock.now())
    db.session.commit()
    url = f"/studio/drafts/{draft.id}/edit?path=bpmn/leave_request.bpmn"
    chinese, english = (analyst_client.get(url, headers=h).get_data(as_text=True) for h in (ZH, EN))
    zh, en = _strings(chinese), _strings(english)
    assert zh.keys() == en.keys()
    assert zh["saved"] == "已保存；{count} 个问题。" and en["saved"] == "Saved; {count} problem(s)."
    assert zh["position"] == "第 {number} / {total} 步" and zh["state.completed"] == "已完成"
    assert zh["selectElement"] == "选择一个元素，设置 Kesu 对它执行的内容。"
    assert ">保存并校验</button>" in chinese and ">Save and validate</button>" in english
    assert ">试运行</button>" in chinese and ">Test run</button>" in english
    untranslated = sorted(key for key in zh if zh[key] == en[key])
    assert untranslated == [], f"the same words in both languages: {untranslated}"


def test_the_diff_and_migration_pages_in_both_languages(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    deploy_leave(clock.now())
    db.session.commit()
    chinese = analyst_client.get("/studio/diff").get_data(as_text=True)
    english = analyst_client.get("/studio/diff", headers=EN).get_data(as_text=True)
    assert "<h1>版本比较</h1>" in chinese and "<h1>Compare versions</h1>" in english
    assert _strings(chinese)["cannotDraw"] == "无法绘制此图：{error}"
    migration = analyst_client.get("/studio/versions/1/migration").get_data(as_text=True)
    assert "<h1>迁移检查：v1</h1>" in migration and "没有旧版本的运行实例。" in migration
    refused = analyst_client.post("/studio/versions/1/migrate", data={})
    assert refused.status_code == 422 and "请至少选择一个要迁移的实例" in refused.get_data(as_text=True)
    refused = analyst_client.post("/studio/versions/1/migrate", data={}, headers=EN)
    assert "choose at least one instance to migrate" in refused.get_data(as_text=True)


def test_the_switcher_comes_back_to_a_page_it_can_get(analyst_client, clock) -> None:  # type: ignore[no-untyped-def]
    deploy_leave(clock.now())
    db.session.commit()

    def comes_back_to(response) -> str:  # type: ignore[no-untyped-def]
        return re.search(r'<input type="hidden" name="next" value="([^"]*)">', response.get_data(as_text=True)).group(1)
    assert comes_back_to(analyst_client.get("/studio/diff?from=v1&to=v1")) == "/studio/diff?from=v1&amp;to=v1"
    form = "http://localhost/studio/versions/1/migration"
    refused = analyst_client.post("/studio/versions/1/migrate", data={}, headers={"Referer": form})
    assert refused.status_code == 422 and comes_back_to(refused) == "/studio/versions/1/migration", \
        "a redirect cannot repeat the POST: back to the page the form was on"
    elsewhere = analyst_client.post("/studio/versions/1/migrate", data={}, headers={"Referer": "https://evil.example/x"})
    assert comes_back_to(elsewhere) == "/"

"""The auditor's pages in Chinese (the default) and in English: search, history, checks, errors, the diagram."""
from __future__ import annotations

import json
import re

import pytest

from tests.audit.test_console import _sign_in, _user
from tests.support.complaints import ProcessDriver
from tests.support.language import EN, ZH


@pytest.fixture
def instance(driver: ProcessDriver, client, clock) -> int:  # type: ignore[no-untyped-def]
    instance_id = driver.start()
    _user(clock, "shenji", ["auditor"])
    _sign_in(client, "shenji")
    return instance_id


def test_the_search_page_is_chinese_by_default_and_english_when_asked(client, instance) -> None:  # type: ignore[no-untyped-def]
    chinese = client.get("/audit?key=C-1001").get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese and "<h1>审计</h1>" in chinese and ">搜索</button>" in chinese
    assert '<option value="waiting" >等待中</option>' in chinese and "<th>业务键</th>" in chinese
    assert "<td>等待中</td>" in chinese and "共 1 个实例。" in chinese and "Search" not in chinese
    english = client.get("/audit?key=C-1001", headers=EN).get_data(as_text=True)
    assert '<html lang="en">' in english and "<h1>Audit</h1>" in english and ">Search</button>" in english
    assert "<td>waiting</td>" in english and "1 instance(s)." in english and "搜索" not in english
    client.post("/language", data={"csrf_token": _token(chinese), "lang": "en", "next": "/audit"})
    assert "<h1>Audit</h1>" in client.get("/audit", headers=ZH).get_data(as_text=True), "the switcher wins"


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_filter_error_in_both_languages(client, instance) -> None:  # type: ignore[no-untyped-def]
    chinese = client.get("/audit?date_from=31.01.2026")
    assert chinese.status_code == 422
    assert "“31.01.2026”不是日期" in chinese.get_data(as_text=True)
    assert "格式为 YYYY-MM-DD，例如 2026-01-31" in chinese.get_data(as_text=True)
    english = client.get("/audit?date_from=31.01.2026", headers=EN)
    assert english.status_code == 422 and "&#39;31.01.2026&#39; is not a date" in english.get_data(as_text=True)
    wrong = client.get(f"/audit/instances/{instance}/export.xml", headers={"Accept": "application/json"})
    assert wrong.status_code == 422 and wrong.get_json()["detail"] == "未知的导出格式“xml”"


def test_the_history_and_its_checks_in_both_languages(client, instance) -> None:  # type: ignore[no-untyped-def]
    chinese = client.get(f"/audit/instances/{instance}?check=replay").get_data(as_text=True)
    assert f"<h1>实例 {instance} <small>" in chinese and ">校验哈希链</a>" in chinese and "<th>操作人</th>" in chinese
    assert re.search(r"<strong>重放:</strong> 一致：\d+ 个事件及最终状态均已重现", chinese)
    english = client.get(f"/audit/instances/{instance}?check=replay", headers=EN).get_data(as_text=True)
    assert ">Verify hash chain</a>" in english and "<strong>Replay:</strong> identical: " in english
    exported = json.loads(client.get(f"/audit/instances/{instance}/export.json").get_data(as_text=True))
    assert exported["instances"][0]["verification"].startswith("intact: "), "exports stay in one language"


def test_the_diagram_page_gives_its_script_the_words(client, instance) -> None:  # type: ignore[no-untyped-def]
    chinese = client.get(f"/audit/instances/{instance}/diagram").get_data(as_text=True)
    english = client.get(f"/audit/instances/{instance}/diagram", headers=EN).get_data(as_text=True)
    assert "<h2>此步的数据</h2>" in chinese and "<h2>Data at this step</h2>" in english
    strings = re.search(r'<script type="application/json" id="page-strings">(.*?)</script>', chinese).group(1)
    assert json.loads(strings) == {"system": "系统", "cannotShow": "无法显示流程图：{error}"}

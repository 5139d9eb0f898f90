"""Staff pages show words, not codes: category and emotion labels from the complaint taxonomy in the task
lists and on the task page, and the task page's timeline names each event in plain words."""
from __future__ import annotations

import re

from app.services.labels import category_label, emotion_label, event_words
from tests.workspace.conftest import sign_in


def test_the_list_shows_category_and_emotion_labels_and_the_filters_keep_codes(driver, make_staff, client) -> None:
    driver.classifier.emotion = "dissatisfied"
    task = driver.task(driver.start(complaint_id="C-L", chosen_category="order.payment"), "handle")
    make_staff("ann", groups=[task.candidate_group])
    sign_in(client, "ann")
    page = client.get("/tasks?list=queue&category=order.payment").get_data(as_text=True)
    assert '<td class="category" title="order.payment">订单问题/支付异常</td>' in page
    assert '<td class="emotion" title="dissatisfied">不满</td>' in page
    assert '<option value="order.payment" selected>' in page  # the filter's value is still the code
    assert ">order.payment<" not in page and ">dissatisfied<" not in page


def test_the_task_page_names_the_classification_and_the_timeline_in_words(driver, make_staff, client) -> None:
    driver.classifier.emotion = "angry"
    task = driver.task(driver.start(complaint_id="C-T", chosen_category="product.quality"), "handle")
    make_staff("ann", groups=[task.candidate_group])
    sign_in(client, "ann")
    page = client.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    assert "Category 类别 商品问题/质量问题" in page and "emotion 情绪 愤怒" in page
    assert '<option value="angry" selected>愤怒 (angry)</option>' in page  # the correction form posts codes
    timeline = re.search(r'<ol class="timeline" id="timeline">(.*?)</ol>', page, re.S).group(1)
    assert "流程开始 Case started" in timeline
    words = re.findall(r'<span class="event" title="([^"]+)">([^<]+)</span>', timeline)
    assert words and all(text != code for code, text in words)


def test_labels_fall_back_to_readable_text() -> None:
    assert (category_label("other"), category_label(None), category_label("no.such")) == ("其他", "", "no.such")
    assert (emotion_label("calm"), emotion_label("")) == ("平静", "")
    assert event_words("task.submitted") == "表单提交 Form submitted"
    assert event_words("refund.result_unclaimed") == "refund result unclaimed"

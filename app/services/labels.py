"""Words for the codes staff pages would otherwise show raw: categories, emotions, timeline event types.

Category and emotion labels come from the complaint taxonomy the portal uses
(app/classification/taxonomy.py); staff pages show the Chinese label (as the filters do) and keep
the code in links, filters and forms. Event types are the engine's and the audit log's names
("task.submitted"); the timeline shows them as plain words, Chinese first.
"""
from __future__ import annotations

from app.classification.taxonomy import CATEGORIES, EMOTIONS

_CATEGORY = {c.code: c.label() for c in CATEGORIES}
_EMOTION = {e.code: e.label() for e in EMOTIONS}
EVENT_WORDS: dict[str, str] = {
    "instance.started": "流程开始 Case started",
    "instance.completed": "流程结束 Case completed",
    "instance.error": "流程出错 Case stopped on an error",
    "instance.suspended": "流程暂停 Case suspended",
    "instance.resumed": "流程恢复 Case resumed",
    "instance.cancelled": "流程取消 Case cancelled",
    "instance.migrated": "迁移到新版本 Moved to a new process version",
    "task.ready": "任务待办 Task ready",
    "task.waiting": "任务等待 Task waiting",
    "task.started": "任务开始 Task started",
    "task.completed": "任务完成 Task completed",
    "task.error": "任务出错 Task failed",
    "task.cancelled": "任务取消 Task cancelled",
    "task.submitted": "表单提交 Form submitted",
    "task.claimed": "领取任务 Task claimed",
    "task.unclaimed": "退回队列 Task returned to the queue",
    "task.reassigned": "转派任务 Task reassigned",
    "timer.fired": "定时触发 Timer fired",
    "service.queued": "服务排队 Service call queued",
    "service.called": "调用服务 Service called",
    "service.failed": "服务失败 Service call failed",
    "message.delivered": "收到消息 Message received",
    "decision.evaluated": "规则判定 Decision table evaluated",
    "incident.raised": "出现故障 Incident raised",
    "incident.retried": "故障重试 Incident retried",
}


def category_label(code: str | None) -> str:
    """Return a category's label ("商品问题/质量问题"); an unknown code is shown as it is, no code is ''."""
    return _CATEGORY.get(code, code) if code else ""


def emotion_label(code: str | None) -> str:
    """Return an emotion's label ("不满"); an unknown code is shown as it is, no code is ''."""
    return _EMOTION.get(code, code) if code else ""


def event_words(event_type: str | None) -> str:
    """Return an event type as plain words; a type without words reads as its parts ("refund sent")."""
    if not event_type:
        return ""
    return EVENT_WORDS.get(event_type) or event_type.replace(".", " ").replace("_", " ")

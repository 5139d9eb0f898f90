"""The complaint taxonomy: 13 category codes on two levels, and 3 emotions, in zh_CN and en.

Codes are stable identifiers stored in the database and in process data; labels may change.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """One complaint category with its level-1 and level-2 labels."""

    code: str
    level1_zh: str
    level2_zh: str
    level1_en: str
    level2_en: str

    def label(self, locale: str = "zh_CN") -> str:
        """Return "level 1 / level 2" in the locale (zh_CN or en)."""
        if locale.startswith("zh"):
            return self.level1_zh if self.level1_zh == self.level2_zh else f"{self.level1_zh}/{self.level2_zh}"
        return self.level1_en if self.level1_en == self.level2_en else f"{self.level1_en} / {self.level2_en}"


@dataclass(frozen=True)
class Emotion:
    """One emotion with its labels."""

    code: str
    zh: str
    en: str

    def label(self, locale: str = "zh_CN") -> str:
        """Return the label in the locale (zh_CN or en)."""
        return self.zh if locale.startswith("zh") else self.en


CATEGORIES: tuple[Category, ...] = (
    Category("product.quality", "商品问题", "质量问题", "Product", "Quality defect"),
    Category("product.not_as_described", "商品问题", "描述不符", "Product", "Not as described"),
    Category("product.short_weight", "商品问题", "缺斤少两", "Product", "Short weight or quantity"),
    Category("order.payment", "订单问题", "支付异常", "Order", "Payment problem"),
    Category("order.cancellation", "订单问题", "订单取消", "Order", "Cancellation"),
    Category("order.price", "订单问题", "价格争议", "Order", "Price dispute"),
    Category("order.out_of_stock", "订单问题", "缺货", "Order", "Out of stock"),
    Category("delivery.late", "配送问题", "延迟送达", "Delivery", "Late delivery"),
    Category("delivery.wrong", "配送问题", "配送错误", "Delivery", "Wrong delivery"),
    Category("delivery.damaged", "配送问题", "包装破损", "Delivery", "Damaged in transit"),
    Category("service.attitude", "服务问题", "态度问题", "Service", "Attitude"),
    Category("service.slow_response", "服务问题", "响应缓慢", "Service", "Slow response"),
    Category("other", "其他", "其他", "Other", "Other"),
)

EMOTIONS: tuple[Emotion, ...] = (
    Emotion("calm", "平静", "Calm"),
    Emotion("dissatisfied", "不满", "Dissatisfied"),
    Emotion("angry", "愤怒", "Angry"),
)

CATEGORY_CODES: tuple[str, ...] = tuple(c.code for c in CATEGORIES)
EMOTION_CODES: tuple[str, ...] = tuple(e.code for e in EMOTIONS)
_CATEGORIES_BY_CODE = {c.code: c for c in CATEGORIES}
_EMOTIONS_BY_CODE = {e.code: e for e in EMOTIONS}


def get_category(code: str) -> Category:
    """Return the category with this code; raise KeyError naming the valid codes if unknown."""
    try:
        return _CATEGORIES_BY_CODE[code]
    except KeyError:
        raise KeyError(f"unknown category {code!r}; valid codes: {', '.join(CATEGORY_CODES)}") from None


def get_emotion(code: str) -> Emotion:
    """Return the emotion with this code; raise KeyError naming the valid codes if unknown."""
    try:
        return _EMOTIONS_BY_CODE[code]
    except KeyError:
        raise KeyError(f"unknown emotion {code!r}; valid codes: {', '.join(EMOTION_CODES)}") from None


def is_category(code: object) -> bool:
    """Return whether ``code`` is one of the 13 category codes."""
    return code in _CATEGORIES_BY_CODE


def is_emotion(code: object) -> bool:
    """Return whether ``code`` is one of the 3 emotion codes."""
    return code in _EMOTIONS_BY_CODE

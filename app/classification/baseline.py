"""The keyword-rules baseline that ``ml evaluate`` compares the model with.

A short hand-written keyword list per class, taken from the labelling guide's wording (plus a
few English words). It is deliberately simple: it shows what the trained model adds.
"""
from __future__ import annotations

import re
import unicodedata

# Order matters: on a tie in the number of keywords matched, the earlier class wins, so the
# specific classes come before the broad product.quality and other.
CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "delivery.damaged": ("破损", "压坏", "压烂", "摔坏", "包装破", "箱子破", "挤压", "碎了", "漏液", "撒了",
                         "damaged", "crushed", "leaked", "leaking", "dented"),
    "delivery.wrong": ("发错", "错发", "送错", "寄错", "少发", "漏发", "不是我买的",
                       "wrong item", "wrong address", "missing item"),
    "delivery.late": ("物流慢", "快递慢", "发货慢", "送货慢", "太慢", "才到", "才收到", "还没到", "迟迟", "延迟",
                      "late", "delayed", "slow delivery", "not arrived"),
    "order.out_of_stock": ("缺货", "没货", "无货", "断货", "调货", "补货", "out of stock"),
    "order.cancellation": ("取消订单", "订单取消", "退单", "砍单", "不能取消", "无法取消", "cancel"),
    "order.price": ("降价", "保价", "价保", "差价", "优惠券", "活动价", "涨价", "便宜了",
                    "price", "coupon", "discount", "cheaper"),
    "order.payment": ("发票", "扣款", "付款", "支付", "扣钱", "多扣", "白条", "没退钱", "退款",
                      "charged", "payment", "refund", "invoice", "receipt"),
    "product.short_weight": ("缺斤少两", "分量", "量少", "重量", "不够秤", "半瓶", "短斤",
                             "underweight", "short weight", "half empty"),
    "product.not_as_described": ("描述不符", "与描述", "和描述", "图片不", "不一样", "色差", "货不对版", "尺码",
                                 "not as described", "different from", "picture"),
    "service.slow_response": ("不回复", "没人回", "没人理", "不理", "联系不上", "没人处理", "回复慢", "找不到人",
                              "no reply", "no response", "ignored", "never answered"),
    "service.attitude": ("态度", "客服差", "售后差", "服务差", "不耐烦", "推脱", "rude", "attitude", "unhelpful"),
    "product.quality": ("质量", "坏了", "不好用", "不能用", "死机", "卡", "发热", "发烫", "过期", "变质", "假货",
                        "掉色", "起球", "难吃", "不好吃", "味道", "过敏", "异味", "烂", "故障",
                        "broken", "defective", "quality", "fake", "expired", "rotten", "stopped working"),
    "other": ("一般", "不喜欢", "还行", "凑合", "meh", "not my style"),
}
# The most frequent complaint in the seed data; used when no keyword matches.
DEFAULT_CATEGORY = "product.quality"

ANGRY_KEYWORDS = ("垃圾", "骗子", "坑", "投诉", "12315", "差评到底", "气死", "恶心", "滚", "再也不",
                  "scam", "fraud", "furious", "worst", "garbage", "never again")
CALM_KEYWORDS = ("一般", "还行", "有点", "稍微", "略", "还可以", "凑合", "希望", "建议",
                 "a bit", "slightly", "okay", "hope")
_REPEATED_EXCLAMATION = re.compile(r"!{2,}")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def baseline_category(text: str) -> str:
    """Return the category whose keywords occur most often in ``text``."""
    folded = _fold(text)
    hits = {code: sum(word in folded for word in words) for code, words in CATEGORY_KEYWORDS.items()}
    best = max(hits, key=lambda code: hits[code])  # max keeps the first of equal counts
    return best if hits[best] else DEFAULT_CATEGORY


def baseline_emotion(text: str) -> str:
    """Return angry on insults, threats or "!!", calm on mild wording, else dissatisfied."""
    folded = _fold(text)
    if _REPEATED_EXCLAMATION.search(folded) or any(word in folded for word in ANGRY_KEYWORDS):
        return "angry"
    if any(word in folded for word in CALM_KEYWORDS):
        return "calm"
    return "dissatisfied"

"""Demo knowledge-base articles (Chinese and English) for the embedded default; added once by title."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models.knowledge import KbArticle
from app.services import knowledge

DEMO_AUTHOR = "zhuguan"
DEMO_ARTICLES = [
    ("退款流程说明", "refund", "zh", None,
     "1. 在「我的投诉」中提交退款申请；\n2. 小额且符合规则的退款会自动通过，其余由客服主管或财务审批；\n"
     "3. 审批通过后原路退回，支付宝/微信一般 1-3 个工作日到账，银行卡 3-7 个工作日。"),
    ("快递迟迟未到怎么办", "物流,延迟", "zh", "delivery.late",
     "请先在订单页查看物流轨迹。超过承诺时效 3 天仍未送达，可提交「延迟送达」投诉，我们会联系快递公司核实；"
     "确认丢件的将为您补发或全额退款。"),
    ("收到商品包装破损", "破损,拍照", "zh", "delivery.damaged",
     "请在签收后 48 小时内拍摄外包装和商品破损处的照片（最多 3 张）提交投诉。易碎品破损可直接补发或退款。"),
    ("收到的商品与订单不符（发错货）", "发错,换货", "zh", "delivery.wrong",
     "请保留原包装并拍照，提交「配送错误」投诉。我们确认后安排上门取件并补发正确商品，运费由我们承担。"),
    ("商品质量问题的处理方式", "质量,退换", "zh", "product.quality",
     "七天内出现质量问题可选择退货退款、换货或部分补偿。生鲜商品请在收货当天反馈并附照片。"),
    ("缺斤少两如何申请补偿", "称重,补偿", "zh", "product.short_weight",
     "请提供带有重量读数的照片，核实后按差额补偿或补发。"),
    ("降价保价规则", "价格,保价", "zh", "order.price",
     "下单后 7 天内同一商品降价，可申请差价补偿；活动秒杀价、赠品不参与保价。"),
    ("如何修改收货地址", "地址,订单", "zh", None,
     "订单发货前可在订单页修改收货地址；已发货的订单请联系快递改派或提交投诉由客服协助。"),
    ("Refund process", "refund", "en", None,
     "Submit a refund request from My complaints. Small refunds that meet the rules are approved automatically; "
     "others are approved by a supervisor or finance. Money goes back to the original payment method within "
     "1-3 working days (Alipay, WeChat Pay) or 3-7 working days (cards)."),
    ("My parcel is late", "delivery,late", "en", "delivery.late",
     "Check the tracking on your order page first. If the parcel is more than 3 days past the promised date, "
     "file a late-delivery complaint; a lost parcel is re-shipped or refunded in full."),
    ("The parcel arrived damaged", "damaged,photos", "en", "delivery.damaged",
     "Within 48 hours of delivery, take photos of the box and the damaged item (up to 3) and file a complaint. "
     "Broken fragile items are re-shipped or refunded."),
    ("Price protection", "price", "en", "order.price",
     "If the same item gets cheaper within 7 days of your order, you can claim the difference. Flash-sale prices "
     "and free gifts are not covered."),
]


def load_demo_articles(*, now: datetime) -> int:
    """Publish the demo articles not there yet (by title); return how many were added."""
    existing = set(db.session.execute(select(KbArticle.title)).scalars())
    added = 0
    for title, tags, language, category, body in DEMO_ARTICLES:
        if title in existing:
            continue
        data = knowledge.ArticleInput(title, body, category, tags, language, "published")
        knowledge.create_article(data, actor=DEMO_AUTHOR, now=now)
        added += 1
    return added

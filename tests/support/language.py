"""Request headers that choose the language of a page (Chinese is the default; see app/views/language.py)."""
from __future__ import annotations

EN = {"Accept-Language": "en-US,en;q=0.9"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}

"""Labelled complaint sets: read and validate a CSV (columns id,text,category,emotion)."""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.classification.errors import DatasetError
from app.classification.taxonomy import CATEGORY_CODES, EMOTION_CODES, is_category, is_emotion

REQUIRED_COLUMNS = ("text", "category", "emotion")
MAX_PROBLEMS_SHOWN = 10


@dataclass(frozen=True)
class LabelledSet:
    """Texts with their category and emotion labels, in file order."""

    texts: tuple[str, ...]
    categories: tuple[str, ...]
    emotions: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.texts)

    def __add__(self, other: LabelledSet) -> LabelledSet:
        return LabelledSet(self.texts + other.texts, self.categories + other.categories,
                           self.emotions + other.emotions)

    def subset(self, indices: list[int]) -> LabelledSet:
        """Return the rows at ``indices``, in that order."""
        return LabelledSet(tuple(self.texts[i] for i in indices), tuple(self.categories[i] for i in indices),
                           tuple(self.emotions[i] for i in indices))

    def data_hash(self) -> str:
        """Return a sha256 of the rows (text, category, emotion), order included."""
        digest = hashlib.sha256()
        for row in zip(self.texts, self.categories, self.emotions):
            digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
        return digest.hexdigest()


def labelled_set(rows: list[tuple[str, str, str]]) -> LabelledSet:
    """Build a set from (text, category, emotion) rows, validating every label."""
    problems = [problem for number, row in enumerate(rows, start=1)
                if (problem := _row_problem(*row, number=number))]
    if problems:
        raise DatasetError(_summarise(problems))
    return LabelledSet(*(tuple(column) for column in zip(*rows))) if rows else LabelledSet((), (), ())


def load_dataset(path: str | Path) -> LabelledSet:
    """Read and validate a labelled CSV; raise DatasetError listing every problem found."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; give the path of a CSV with columns id,text,category,emotion")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read(csv.DictReader(handle), path)
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); "
                           "save the file as UTF-8") from None
    except csv.Error as error:
        raise DatasetError(f"{path}: not a readable CSV ({error})") from None


def _read(reader: csv.DictReader[str], path: Path) -> LabelledSet:
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}; the header must include "
                           f"{','.join(REQUIRED_COLUMNS)} (found: {','.join(header) or 'no header'})")
    reader.fieldnames = header
    rows: list[tuple[str, str, str]] = []
    problems: list[str] = []
    for record in reader:
        problem = _record_problem(record, len(header), reader.line_num)
        if problem:
            problems.append(problem)
            continue
        rows.append((record["text"], record["category"].strip(), record["emotion"].strip()))
    if problems:
        raise DatasetError(f"{path}: {_summarise(problems)}; nothing was trained or written")
    if not rows:
        raise DatasetError(f"{path}: the file has a header but no rows")
    return LabelledSet(*(tuple(column) for column in zip(*rows)))


def _record_problem(record: dict[str | None, Any], width: int, line: int) -> str | None:
    if None in record:
        return f"line {line}: {width + len(record[None])} fields where the header has {width}; " \
               "quote any text that contains commas"
    text, category, emotion = (record.get(name) for name in REQUIRED_COLUMNS)
    if text is None or category is None or emotion is None:
        return f"line {line}: fewer fields than the header has {width}"
    return _row_problem(text, category.strip(), emotion.strip(), number=line)


def _row_problem(text: str, category: str, emotion: str, *, number: int) -> str | None:
    if not text.strip():
        return f"line {number}: empty text"
    if not is_category(category):
        return f"line {number}: unknown category {category!r}"
    if not is_emotion(emotion):
        return f"line {number}: unknown emotion {emotion!r}"
    return None


def _summarise(problems: list[str]) -> str:
    shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    hints = [f"valid categories: {', '.join(CATEGORY_CODES)}" if any("category" in p for p in problems) else "",
             f"valid emotions: {', '.join(EMOTION_CODES)}" if any("emotion" in p for p in problems) else ""]
    return "; ".join([f"{len(problems)} bad row(s): {shown}" + (f"; and {more} more" if more > 0 else ""),
                      *filter(None, hints)])

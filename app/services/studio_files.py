"""Studio file rules: which paths a draft may hold, safe import of foreign diagrams, validation."""
from __future__ import annotations

import re
from typing import Mapping

from flask_babel import gettext as _
from lxml import etree
from sqlalchemy import select
from werkzeug.utils import secure_filename

from app.errors import ValidationFailed
from app.extensions import db
from app.models import User
from app.runtime import get_runtime
from workflows.definitions import DEFAULT_MAX_BYTES, DefinitionError, Problem, file_kind, parse_xml_safely
from workflows.validation import validate_files

FOLDERS = {"bpmn": "bpmn/", "dmn": "rules/", "form": "bpmn/forms/"}
_PATH = re.compile(r"^(bpmn/forms/[A-Za-z0-9_.-]+\.json|bpmn/[A-Za-z0-9_.-]+\.bpmn|rules/[A-Za-z0-9_.-]+\.dmn)$")
# Elements and attributes whose text Kesu evaluates; a dunder or `import` there is an attack.
_EVALUATED = {"conditionExpression", "script", "timeDuration", "timeDate", "timeCycle", "text",
              "completionCondition", "loopCardinality", "preScript", "postScript", "property", "parameter"}
_DANGEROUS = re.compile(r"__\w+|\bimport\b|\beval\s*\(|\bexec\s*\(|\bopen\s*\(")
ALWAYS_KNOWN_GROUPS = {"customer"}


def check_path(path: str) -> str:
    """Return ``path`` if a draft may hold it, else raise ValidationFailed saying what is allowed."""
    if not _PATH.match(path or ""):
        raise ValidationFailed(_("file path '%(path)s' is not allowed; use bpmn/NAME.bpmn, rules/NAME.dmn or "
                                 "bpmn/forms/NAME.json (letters, digits, _ . -)", path=path),
                               fields={"path": _("not allowed")})
    return path


def check_content(path: str, text: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse unsafe or oversize XML, and expressions that try to reach Python's internals."""
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise ValidationFailed(_("%(path)s is %(size)s bytes; the limit is %(limit)s bytes — split the diagram or "
                                 "remove embedded images", path=path, size=f"{size:,}", limit=f"{max_bytes:,}"),
                               fields={"file": _("too large")})
    if file_kind(path) not in ("bpmn", "dmn"):
        return
    try:
        root = parse_xml_safely(text, filename=path, max_bytes=max_bytes)
    except DefinitionError as error:
        raise ValidationFailed(_("%(path)s was refused: %(problem)s", path=path, problem=error.problems[0].message),
                               fields={"file": error.problems[0].message}) from None
    for element in root.iter():
        if not isinstance(element.tag, str) or etree.QName(element).localname not in _EVALUATED:
            continue
        for value in [element.text or "", element.get("value") or ""]:
            if _DANGEROUS.search(value):
                raise ValidationFailed(
                    _("%(path)s was refused: element '%(element)s' has the expression `%(expression)s`, which "
                      "reaches for Python internals (dunder names, import, eval, exec, open are never allowed); "
                      "remove it and upload again", path=path, element=_element_id(element),
                      expression=value.strip()[:80]), fields={"file": _("unsafe expression")})


def _element_id(element: etree._Element) -> str:
    node: etree._Element | None = element
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node.get("id") if node is not None else etree.QName(element).localname


def import_path(filename: str) -> str:
    """Return the draft path for an uploaded file name (.bpmn -> bpmn/, .dmn -> rules/)."""
    name = secure_filename(filename or "")
    kind = file_kind(name)
    if kind not in ("bpmn", "dmn"):
        raise ValidationFailed(_("'%(file)s' is not a .bpmn or .dmn file; export the diagram as BPMN 2.0 XML or "
                                 "DMN 1.3 XML and upload that", file=filename), fields={"file": _("wrong type")})
    return check_path(FOLDERS[kind] + name)


def decode_upload(data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Return uploaded bytes as text, refusing oversize and non-UTF-8 files."""
    if len(data) > max_bytes:
        raise ValidationFailed(_("%(file)s is larger than the limit of %(limit)s bytes; split the diagram or remove "
                                 "embedded images", file=filename, limit=f"{max_bytes:,}"),
                               fields={"file": _("too large")})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(_("%(file)s is not UTF-8 text; save it as UTF-8 XML and upload again", file=filename),
                               fields={"file": _("not UTF-8")}) from None


def known_groups() -> set[str] | None:
    """Return every group a task may be offered to: staff groups, customers; None when unknown yet."""
    groups = set(ALWAYS_KNOWN_GROUPS)
    for user_groups in db.session.execute(select(User.groups)).scalars():
        groups.update(user_groups or [])
    return groups if len(groups) > len(ALWAYS_KNOWN_GROUPS) else None


def validate(files: Mapping[str, str]) -> list[Problem]:
    """Validate a draft's files with the registered operators and known groups."""
    if not any(file_kind(path) in ("bpmn", "dmn") for path in files):
        return [Problem("", "the draft has no diagram or decision table yet; add or import one")]
    return validate_files(files, operators=get_runtime().operators, groups=known_groups())

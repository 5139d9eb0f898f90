"""Differences between two sets of definition files, element by element.

BPMN elements are compared by id: type, name, attributes, condition, timer and script text,
extension properties (operator, parameters, form, group...) and a flow's source and target.
Decision tables are compared by rule id: input and output cells and the description; columns
and the hit policy by table. Forms are compared as whole JSON documents.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from lxml import etree

from workflows.definitions import DefinitionError, file_kind, parse_xml_safely

_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_DMN_TAGS = {"decision", "decisionTable", "input", "output", "rule"}
# Child elements that are structure, not properties of the element that holds them.
_STRUCTURE = {"incoming", "outgoing", "flowNodeRef"}
_CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess", "laneSet", "lane", "collaboration"}


@dataclass
class ElementChange:
    """One element that was added, removed or changed; ``fields`` says what differs (old, new)."""

    element_id: str
    kind: str  # added | removed | changed
    type: str
    name: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "kind": self.kind, "type": self.type, "name": self.name,
                "fields": {k: {"old": old, "new": new} for k, (old, new) in self.fields.items()}}


@dataclass
class FileDiff:
    """The changes of one file between the two sides (``status``: added, removed, changed, same)."""

    path: str
    kind: str
    status: str
    changes: list[ElementChange] = field(default_factory=list)
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "status": self.status, "problem": self.problem,
                "changes": [c.to_dict() for c in self.changes]}


def diff_files(old: Mapping[str, str], new: Mapping[str, str]) -> list[FileDiff]:
    """Compare every file of two versions; a file on one side only lists its elements as added or removed."""
    result = []
    for path in sorted(set(old) | set(new)):
        kind = file_kind(path) or "other"
        if path not in new:
            result.append(_whole_file(path, kind, old[path], "removed"))
        elif path not in old:
            result.append(_whole_file(path, kind, new[path], "added"))
        elif old[path] == new[path]:
            result.append(FileDiff(path, kind, "same"))
        else:
            result.append(_changed_file(path, kind, old[path], new[path]))
    return result


def same_model(old: Mapping[str, str], new: Mapping[str, str]) -> bool:
    """Return True when no file differs in what runs: the same files, every one "same" by element
    (layout, whitespace and attribute order do not count) and every form the same JSON document."""
    if set(old) != set(new):
        return False
    for diff in diff_files(old, new):
        if diff.kind == "form" and diff.status == "changed":
            try:
                if json.loads(old[diff.path]) == json.loads(new[diff.path]):
                    continue
            except ValueError:
                return False
        if diff.status != "same":
            return False
    return True


def _whole_file(path: str, kind: str, text: str, status: str) -> FileDiff:
    """A file on one side only: every element (or form field) in it is added or removed with it."""
    if kind == "form":
        changes = _form_changes("{}", text) if status == "added" else _form_changes(text, "{}")
        return FileDiff(path, kind, status, [c for c in changes if c.kind == status])
    if kind not in ("bpmn", "dmn"):
        return FileDiff(path, kind, status)
    try:
        elements = _elements(parse_xml_safely(text, filename=path), kind)
    except DefinitionError as error:
        return FileDiff(path, kind, status, problem=error.problems[0].message)
    return FileDiff(path, kind, status, [ElementChange(i, status, e["type"], e.get("name") or "")
                                         for i, e in sorted(elements.items())])


def _changed_file(path: str, kind: str, old: str, new: str) -> FileDiff:
    if kind == "form":
        return FileDiff(path, kind, "changed", _form_changes(old, new))
    try:
        before = _elements(parse_xml_safely(old, filename=path), kind)
        after = _elements(parse_xml_safely(new, filename=path), kind)
    except DefinitionError as error:
        return FileDiff(path, kind, "changed", problem=error.problems[0].message)
    changes = [ElementChange(i, "removed", before[i]["type"], before[i].get("name") or "")
               for i in before if i not in after]
    changes += [ElementChange(i, "added", after[i]["type"], after[i].get("name") or "")
                for i in after if i not in before]
    for element_id in before.keys() & after.keys():
        fields = {key: (before[element_id].get(key), after[element_id].get(key))
                  for key in sorted(before[element_id].keys() | after[element_id].keys())
                  if before[element_id].get(key) != after[element_id].get(key)}
        if fields:
            changes.append(ElementChange(element_id, "changed", after[element_id]["type"],
                                         after[element_id].get("name") or "", fields))
    changes.sort(key=lambda c: ({"removed": 0, "added": 1, "changed": 2}[c.kind], c.element_id))
    return FileDiff(path, kind, "changed" if changes else "same", changes)


def _elements(root: etree._Element, kind: str | None) -> dict[str, dict[str, Any]]:
    """Return {id: comparable description} for the executable elements of a BPMN or DMN tree."""
    found: dict[str, dict[str, Any]] = {}
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.get("id"):
            continue
        qname = etree.QName(element)
        if kind == "bpmn":
            parent = element.getparent()
            container = etree.QName(parent).localname if parent is not None and isinstance(parent.tag, str) else ""
            if qname.namespace != _BPMN_NS or (container not in _CONTAINERS and qname.localname != "process"):
                continue
        elif qname.localname not in _DMN_TAGS:
            continue
        found[element.get("id")] = _describe(element, kind)
    return found


def _describe(element: etree._Element, kind: str | None) -> dict[str, Any]:
    """Return the comparable fields of one element (never its layout or nested elements with ids)."""
    tag = etree.QName(element).localname
    described: dict[str, Any] = {"type": tag}
    for key, value in sorted(element.attrib.items()):
        name = etree.QName(key).localname
        if name != "id":
            described[name] = value
    if kind == "dmn" and tag == "rule":
        described["inputs"] = [_text(e) for e in element if etree.QName(e).localname == "inputEntry"]
        described["outputs"] = [_text(e) for e in element if etree.QName(e).localname == "outputEntry"]
        described["description"] = _text(next((e for e in element if etree.QName(e).localname == "description"), None))
        return described
    if kind == "dmn" and tag in ("input", "output"):
        described["expression"] = _text(next((e for e in element.iter() if isinstance(e.tag, str)
                                              and etree.QName(e).localname == "text"), None))
        return described
    if kind == "dmn":
        return described
    for child in element:
        if not isinstance(child.tag, str):
            continue
        child_tag = etree.QName(child).localname
        if child_tag in _STRUCTURE or _nested_element(child, child_tag):
            continue
        if child_tag == "extensionElements":
            for extension in child:
                if isinstance(extension.tag, str):
                    described[f"extension:{etree.QName(extension).localname}"] = _canonical(extension)
        else:
            described[child_tag] = _canonical(child)
    return described


def _nested_element(child: etree._Element, tag: str) -> bool:
    """A BPMN child with an id that is compared on its own (a subprocess's content), not as a property."""
    own_parts = tag == "conditionExpression" or tag.endswith("EventDefinition") or tag == "multiInstanceLoopCharacteristics"
    return bool(child.get("id")) and etree.QName(child).namespace == _BPMN_NS and not own_parts


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _canonical(element: etree._Element) -> str:
    """Return an element's content without ids of nested definitions or whitespace differences."""
    parts = []
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        attrs = " ".join(f"{etree.QName(k).localname}={v}" for k, v in sorted(node.attrib.items())
                         if etree.QName(k).localname != "id" or etree.QName(node).namespace != _BPMN_NS)
        text = " ".join((node.text or "").split())
        parts.append(f"{etree.QName(node).localname}({attrs}){':' + text if text else ''}")
    return "; ".join(parts)


def _form_changes(old: str, new: str) -> list[ElementChange]:
    try:
        before, after = json.loads(old), json.loads(new)
    except ValueError:
        return [ElementChange("(form)", "changed", "form", "", {"json": ("…", "…")})]
    old_props = (before.get("properties") or {}) if isinstance(before, dict) else {}
    new_props = (after.get("properties") or {}) if isinstance(after, dict) else {}
    changes = [ElementChange(k, "removed", "field", str(old_props[k].get("title", k)))
               for k in old_props if k not in new_props]
    changes += [ElementChange(k, "added", "field", str(new_props[k].get("title", k)))
                for k in new_props if k not in old_props]
    changes += [ElementChange(k, "changed", "field", str(new_props[k].get("title", k)),
                              {"definition": (json.dumps(old_props[k], ensure_ascii=False),
                                              json.dumps(new_props[k], ensure_ascii=False))})
                for k in sorted(old_props.keys() & new_props.keys()) if old_props[k] != new_props[k]]
    if isinstance(before, dict) and isinstance(after, dict) and before.get("required") != after.get("required"):
        changes.append(ElementChange("(required)", "changed", "form", "required",
                                     {"required": (before.get("required"), after.get("required"))}))
    return changes

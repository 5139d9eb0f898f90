"""Safe parsing, validation, content hashes and the cache of parsed specs per version.

Uploaded bytes never reach SpiffWorkflow's own parsing (`add_bpmn_str` uses a bare
`etree.fromstring`): files are parsed here with a hardened lxml parser, any DOCTYPE is
refused, and only then is the tree handed to ``add_bpmn_xml`` / ``add_dmn_xml``.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Mapping

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser

from workflows.specs import KesuServiceTask, adapt_task_spec

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
KINDS = {".bpmn": "bpmn", ".dmn": "dmn", ".json": "form"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, located as precisely as the file allows."""

    file: str
    message: str
    element_id: str | None = None
    line: int | None = None
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        element = f" [{self.element_id}]" if self.element_id else ""
        prefix = "" if self.severity == "error" else "warning: "
        return f"{where}{element}: {prefix}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "element_id": self.element_id, "line": self.line,
                "severity": self.severity, "message": self.message}


class DefinitionError(Exception):
    """Files could not be turned into executable specs; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def file_kind(path: str) -> str | None:
    """Return bpmn, dmn or form for a file name, or None for anything else."""
    for suffix, kind in KINDS.items():
        if path.lower().endswith(suffix):
            return kind
    return None


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(files: Mapping[str, str]) -> str:
    """Hash a set of files by path and content; the order files are given in does not matter."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(f"{path}\0{sha256_text(files[path])}\n".encode())
    return digest.hexdigest()


_XML_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_pis=True)


def parse_xml_safely(data: str | bytes, *, filename: str,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse XML without entities, DTDs or network access; refuse DOCTYPE and oversize files."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise DefinitionError([Problem(filename, f"file is {len(raw):,} bytes; the limit is "
                                                 f"{max_bytes:,} bytes")])
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise DefinitionError([Problem(filename, "DOCTYPE and ENTITY declarations are not "
                                                 "allowed in diagrams; remove them and upload again")])
    parser = etree.XMLParser(**_XML_PARSER_OPTIONS)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        raise DefinitionError([Problem(filename, f"not well-formed XML: {exc.msg}", line=line)]) from exc
    if root.getroottree().docinfo.doctype:
        raise DefinitionError([Problem(filename, "DOCTYPE declarations are not allowed")])
    return root


SPIFF_NAMESPACE = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def duplicate_ids(root: etree._Element, filename: str) -> list[Problem]:
    """Report ids used by two elements; SpiffWorkflow then parses the wrong one.

    A service task and its ``spiffworkflow:serviceTaskOperator`` sharing an id is the usual
    case: 3.2.0 answers "There is no support implemented for this task type". Two
    ``spiffworkflow:`` elements may share an id (the same operator or parameter name in two
    service tasks): SpiffWorkflow reads those inside their task and never looks them up by id.
    """
    seen: dict[str, str] = {}
    extension_ids: set[str] = set()
    problems = []
    for element in root.iter():
        element_id = element.get("id") if isinstance(element.tag, str) else None
        if not element_id:
            continue
        tag = etree.QName(element).localname
        if etree.QName(element).namespace == SPIFF_NAMESPACE:
            if element_id in extension_ids:
                continue
            extension_ids.add(element_id)
        if element_id in seen:
            problems.append(Problem(filename, f"id '{element_id}' is used by both {seen[element_id]} and {tag}; "
                                              f"ids must be unique in a file", element_id=element_id,
                                    line=element.sourceline))
        else:
            seen[element_id] = tag
    return problems


class KesuParser(SpiffBpmnParser):
    """SpiffBpmnParser whose service tasks run through Kesu's operator registry."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, KesuServiceTask),
    }


@dataclass
class SpecBundle:
    """Everything parsed from one deployed version, shared read-only by every instance."""

    content_hash: str
    specs: dict[str, BpmnProcessSpec]
    subprocess_specs: dict[str, dict[str, BpmnProcessSpec]]
    forms: dict[str, dict[str, Any]]
    decisions: list[str] = field(default_factory=list)

    def spec_for(self, process_id: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
        """Return the spec and subprocess specs of an executable process of this version."""
        if process_id not in self.specs:
            raise KeyError(f"process '{process_id}' is not part of this version; it has "
                           f"{', '.join(sorted(self.specs)) or 'no executable process'}")
        return self.specs[process_id], self.subprocess_specs[process_id]


# SpiffWorkflow messages that do not say what to do, and what Kesu says instead.
_CLEARER = {
    "Multiple outgoing flows are not supported for tasks of type":
        "a task can have only one outgoing flow; to branch, draw the flows from an exclusive "
        "or parallel gateway placed after the task",
}


def _problem_from_validation(exc: SpiffWorkflowException, default_file: str) -> Problem:
    line = getattr(exc, "line_number", None)
    message = str(exc).split("\n")[0]
    message = _CLEARER.get(message.strip().rstrip(".").strip(), message)
    notes = [n for n in getattr(exc, "notes", []) if n]
    if notes:
        message = f"{message} ({'; '.join(notes)})"
    return Problem(getattr(exc, "file_name", "") or default_file, message,
                   element_id=getattr(exc, "id", None) or None,
                   line=line if isinstance(line, int) else None)


def load_forms(files: Mapping[str, str]) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Parse the JSON Schema forms among the files; the form key is the file's stem."""
    forms: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for path, text in files.items():
        if file_kind(path) != "form":
            continue
        try:
            schema = json.loads(text)
        except ValueError as exc:
            problems.append(Problem(path, f"not valid JSON: {exc}"))
            continue
        if not isinstance(schema, dict):
            problems.append(Problem(path, "a form must be a JSON object (a JSON Schema)"))
            continue
        forms[path.rsplit("/", 1)[-1].rsplit(".", 1)[0]] = schema
    return forms, problems


def build_bundle(files: Mapping[str, str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> SpecBundle:
    """Parse a set of files into executable specs, or raise DefinitionError with every problem."""
    parser = KesuParser()
    problems: list[Problem] = []
    for path in sorted(files):
        kind = file_kind(path)
        if kind not in ("bpmn", "dmn"):
            continue
        try:
            root = parse_xml_safely(files[path], filename=path, max_bytes=max_bytes)
            duplicates = duplicate_ids(root, path)
            if duplicates:
                problems.extend(duplicates)
                continue
            (parser.add_bpmn_xml if kind == "bpmn" else parser.add_dmn_xml)(root, filename=path)
        except DefinitionError as exc:
            problems.extend(exc.problems)
        except SpiffWorkflowException as exc:
            problems.append(_problem_from_validation(exc, path))
    forms, form_problems = load_forms(files)
    problems.extend(form_problems)
    if problems:
        raise DefinitionError(problems)
    specs, subprocess_specs = {}, {}
    for process_id in parser.get_process_ids():
        try:
            specs[process_id] = parser.get_spec(process_id)
            subprocess_specs[process_id] = parser.get_subprocess_specs(process_id)
        except (ValidationException, SpiffWorkflowException) as exc:
            problems.append(_problem_from_validation(exc, ""))
        except Exception as exc:  # SpiffWorkflow raises bare exceptions for bad timers etc.
            problems.append(Problem("", f"process '{process_id}': {exc}"))
    if problems:
        raise DefinitionError(problems)
    for spec in _all_specs(specs, subprocess_specs):
        for task_spec in spec.task_specs.values():
            adapt_task_spec(task_spec)
    return SpecBundle(content_hash(files), specs, subprocess_specs, forms,
                      decisions=sorted(parser.dmn_parsers))


def _all_specs(specs: dict[str, BpmnProcessSpec],
               subprocess_specs: dict[str, dict[str, BpmnProcessSpec]]) -> list[BpmnProcessSpec]:
    seen: dict[int, BpmnProcessSpec] = {}
    for spec in specs.values():
        seen[id(spec)] = spec
    for group in subprocess_specs.values():
        for spec in group.values():
            if spec is not None:
                seen[id(spec)] = spec
    return list(seen.values())


class SpecCache:
    """Parsed bundles by content hash; parsing costs about twice a whole instance run."""

    def __init__(self, capacity: int = 32) -> None:
        self._bundles: OrderedDict[str, SpecBundle] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, key: str, load_files: Any) -> SpecBundle:
        """Return the bundle for ``key``, building it from ``load_files()`` on a miss."""
        with self._lock:
            bundle = self._bundles.get(key)
            if bundle is not None:
                self._bundles.move_to_end(key)
                return bundle
        bundle = build_bundle(load_files())
        with self._lock:
            self._bundles[key] = bundle
            while len(self._bundles) > self._capacity:
                self._bundles.popitem(last=False)
        return bundle

    def clear(self) -> None:
        with self._lock:
            self._bundles.clear()

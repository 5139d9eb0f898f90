"""Check a set of BPMN/DMN/form files and report every problem with its file and element id.

Parsing problems come first (unsafe XML, SpiffWorkflow's own checks); then each executable
element is checked: operators exist, scripts and expressions pass the sandbox's static
check, timers parse, forms exist, gateways have a default flow, decision cells compile.
"""
from __future__ import annotations

import re

from dataclasses import replace
from typing import Any, Callable, Iterator, Mapping

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.specs.ExclusiveChoice import ExclusiveChoice
from SpiffWorkflow.specs.MultiChoice import MultiChoice

from workflows.dataflow import unproduced_reads
from workflows.definitions import (DefinitionError, Problem, SpecBundle, build_bundle, file_kind, load_forms,
                                   parse_xml_safely)
from workflows.sandbox import ExpressionEvaluator, ScriptRunner
from workflows.services import OperatorRegistry
from workflows.specs import KesuDMNEngine, KesuServiceTask

_EVALUATOR = ExpressionEvaluator()


def validate_files(files: Mapping[str, str], *, operators: OperatorRegistry | None = None,
                   groups: set[str] | None = None, max_bytes: int | None = None) -> list[Problem]:
    """Return every problem found in the files (an empty list means they can be deployed)."""
    try:
        bundle = build_bundle(files, **({"max_bytes": max_bytes} if max_bytes else {}))
    except DefinitionError as error:
        return locate(error.problems, files)
    forms, _ = load_forms(files)
    lines: dict[str, dict[str, int]] = {}

    def dmn_file_of(table_id: str) -> str:
        if not lines:
            lines.update(_element_lines(files))
        return next((path for path, ids in lines.items() if file_kind(path) == "dmn" and table_id in ids), "")
    problems: list[Problem] = []
    for spec in _specs(bundle):
        filename = getattr(spec, "file", None) or ""
        for task_spec in spec.task_specs.values():
            problems.extend(_check_task(task_spec, filename, operators, forms, groups, dmn_file_of))
        problems.extend(unproduced_reads(spec, forms, filename))
    return locate(list(dict.fromkeys(problems)), files)  # a table two tasks call is reported once per task


def locate(problems: list[Problem], files: Mapping[str, str]) -> list[Problem]:
    """Give each problem about an element the line it is on, and the file it is in when that was lost.

    SpiffWorkflow 3.2.0 reads ``node.line_number`` (lxml calls it ``sourceline``), so its problems
    never carry a line, and a problem found while assembling a process names no file.
    """
    lines: dict[str, dict[str, int]] | None = None
    located = []
    for problem in problems:
        if problem.element_id and (problem.line is None or not problem.file):
            lines = _element_lines(files) if lines is None else lines
            path = problem.file or next((p for p, ids in lines.items() if problem.element_id in ids), "")
            line = problem.line or lines.get(path, {}).get(problem.element_id)
            problem = replace(problem, file=path, line=line)
        located.append(problem)
    return located


def _element_lines(files: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Map each BPMN/DMN file to {element id: line}; files that do not parse are left out."""
    found: dict[str, dict[str, int]] = {}
    for path, text in files.items():
        if file_kind(path) not in ("bpmn", "dmn"):
            continue
        try:
            root = parse_xml_safely(text, filename=path, max_bytes=len(text.encode("utf-8")) + 1)
        except DefinitionError:
            continue
        ids: dict[str, int] = {}
        for element in root.iter():
            element_id = element.get("id") if isinstance(element.tag, str) else None
            if element_id and element.sourceline and element_id not in ids:
                ids[element_id] = element.sourceline
        found[path] = ids
    return found


def _specs(bundle: SpecBundle) -> Iterator[Any]:
    seen: set[int] = set()
    for process_id, spec in bundle.specs.items():
        for candidate in [spec, *bundle.subprocess_specs[process_id].values()]:
            if candidate is not None and id(candidate) not in seen:
                seen.add(id(candidate))
                yield candidate


def _check_task(task_spec: Any, filename: str, operators: OperatorRegistry | None,
                forms: dict[str, Any], groups: set[str] | None, dmn_file_of: Callable[[str], str]) -> list[Problem]:
    element = getattr(task_spec, "bpmn_id", None)
    if element is None:
        return []
    found: list[str | None] = []
    found += [_expression(expr) for expr in _conditions(task_spec)]
    if isinstance(task_spec, ExclusiveChoice) and getattr(task_spec, "default_task_spec", None) is None:
        found.append("warning: gateway has no default flow; if no condition holds the instance stops "
                     "with an error")
    for script in (getattr(task_spec, "script", None), getattr(task_spec, "prescript", None),
                   getattr(task_spec, "postscript", None)):
        if script:
            found.append(_script(script))
    definition = getattr(task_spec, "event_definition", None)
    for timer in getattr(definition, "event_definitions", [definition]):
        if isinstance(timer, TimerEventDefinition):
            found.append(_timer(timer.expression))
    if isinstance(task_spec, KesuServiceTask):
        found.extend(_service(task_spec, operators))
    found.extend(_user_task(task_spec, forms, groups))
    problems = [_problem(filename, element, message) for message in found if message]
    if isinstance(task_spec, BusinessRuleTaskMixin):  # about the DMN file's table, row or cell, not this task
        table_file = dmn_file_of(task_spec.dmnEngine.decision_table.id)
        problems += [_problem(table_file, dmn_element, f"{message} (called by task '{element}')")
                     for dmn_element, message in _decision(task_spec) if message]
    return problems


def _problem(filename: str, element: str, message: str) -> Problem:
    if message.startswith("warning: "):
        return Problem(filename, message.removeprefix("warning: "), element_id=element, severity="warning")
    return Problem(filename, message, element_id=element)


def _conditions(task_spec: Any) -> list[str]:
    if not isinstance(task_spec, MultiChoice):
        return []
    return [cond.args[0] for cond, _name in task_spec.cond_task_specs
            if cond is not None and getattr(cond, "args", None)]


def _expression(expression: str, what: str = "condition") -> str | None:
    problem = _EVALUATOR.check(expression)
    return f"{what} `{expression}` refused: {problem}" if problem else None


def _script(script: str) -> str | None:
    problem = _script_checker().check(script)
    return f"script refused: {problem}" if problem else None


_CHECKER: ScriptRunner | None = None


def _script_checker() -> ScriptRunner:
    global _CHECKER
    if _CHECKER is None:
        _CHECKER = ScriptRunner(workers=1)  # only its static check is used; no process starts
    return _CHECKER


_NOT_CONSTANT = object()


def _constant(expression: str) -> Any:
    """The value of an expression that names no variable, else _NOT_CONSTANT (checked when it runs)."""
    try:
        return _EVALUATOR.evaluate(expression, {})
    except Exception:
        return _NOT_CONSTANT


def _is_timer_value(text: str) -> bool:
    """Whether SpiffWorkflow reads ``text`` as an ISO 8601 duration, date or cycle."""
    try:
        if text.upper().startswith("R"):
            TimerEventDefinition.parse_iso_recurring_interval(text)
        else:
            TimerEventDefinition.parse_time_or_duration(text)
    except Exception:
        return False
    return True


def _timer(expression: str) -> str | None:
    problem = _EVALUATOR.check(expression)
    if problem:
        return f"timer expression `{expression}` refused: {problem}"
    value = _constant(expression)
    if value is _NOT_CONSTANT or _is_timer_value(str(value)):
        return None
    return (f"timer expression `{expression}` is not an ISO 8601 duration, date or cycle "
            f"(write e.g. \"PT2H\", \"P3D\", \"R3/PT10M\" — with the quotes)")


def _service(task_spec: KesuServiceTask, operators: OperatorRegistry | None) -> list[str | None]:
    found: list[str | None] = []
    if operators is not None and task_spec.operation_name not in operators:
        known = ", ".join(op.name for op in operators) or "none"
        found.append(f"unknown service operator '{task_spec.operation_name}' (registered: {known})")
    for name, param in task_spec.operation_params.items():
        found.append(_expression(param["value"], f"parameter '{name}'"))
    return found


def _decision(task_spec: Any) -> list[tuple[str, str | None]]:
    """Problems of the decision table a business rule task calls, each with the DMN element it is about."""
    engine = task_spec.dmnEngine
    table = engine.decision_table
    found: list[tuple[str, str | None]] = []
    policy = (table.hit_policy or "UNIQUE").upper()
    if isinstance(engine, KesuDMNEngine) and policy not in KesuDMNEngine.SUPPORTED:
        found.append((table.id, f"decision table '{table.id}': hit policy {policy} is not supported; use FIRST "
                                f"with rows in priority order, or UNIQUE"))
    for column in table.inputs:
        if column.expression:
            found.append((column.id, _expression(column.expression, f"decision '{table.id}' input")))
    for rule in table.rules:
        for entry in rule.outputEntries:
            if entry.text:
                found.append((entry.id, _expression(entry.text, f"decision '{table.id}' row {rule.row_number} output")
                              or _duration_output(entry.text, table.id, rule.row_number)))
        for entry in rule.inputEntries:
            for cell in entry.lhs:
                if cell and cell.strip() != "-":
                    found.append((entry.id, _cell(cell, table.id, rule.row_number)))
    return found


_LOOKS_LIKE_DURATION = re.compile(r"(R\d*/)?P(T?\d|\d)", re.IGNORECASE)


def _duration_output(text: str, table_id: str, row: int) -> str | None:
    """A constant output that looks like an ISO 8601 duration (an SLA a timer reads later) must be one."""
    value = _constant(text)  # a refused expression is reported by the expression check
    if not isinstance(value, str) or not _LOOKS_LIKE_DURATION.match(value) or _is_timer_value(value):
        return None
    return (f"decision '{table_id}' row {row} output `{text}` looks like an ISO 8601 duration but is not "
            f"one, so a timer reading it would fail when it starts (write e.g. \"PT2H\", \"P3D\")")


def _cell(cell: str, table_id: str, row: int) -> str | None:
    candidate = cell.replace("?", "x")
    if _EVALUATOR.check(candidate) is None or _EVALUATOR.check(f"x {candidate}") is None:
        return None
    return f"decision '{table_id}' row {row} cell `{cell}` refused: {_EVALUATOR.check(candidate)}"


def _user_task(task_spec: Any, forms: dict[str, Any], groups: set[str] | None) -> list[str | None]:
    if not getattr(task_spec, "manual", False):
        return []
    props = (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}
    found: list[str | None] = []
    key = props.get("formKey") or props.get("formJsonSchemaFilename")
    if key:
        stem = key.rsplit("/", 1)[-1].removesuffix(".json").removesuffix("-schema")
        if stem not in forms:
            found.append(f"form '{key}' is not among the files (add bpmn/forms/{stem}.json)")
    if props.get("candidateGroupsExpression"):
        found.append(_expression(props["candidateGroupsExpression"], "candidate group expression"))
    group = props.get("candidateGroups")
    if group and groups is not None and group not in groups:
        found.append(f"unknown group '{group}' (known: {', '.join(sorted(groups))})")
    return found

"""Which variables a gateway condition reads that no earlier step produces (where it can be known).

Producers: the start event's form fields, script assignments, decision table outputs, service
result variables, user task form fields (and their actor variable), message variables. A step
whose output cannot be known (a call activity, a subprocess, a message without a variable)
makes the check give up for what lies after it. Without a start form the start data is
unknown, so only a variable that is produced, but only by later steps, is reported.
"""
from __future__ import annotations

import ast
from typing import Any, Iterable

from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.specs.MultiChoice import MultiChoice

from workflows.definitions import Problem
from workflows.sandbox import DEFAULT_FUNCTIONS
from workflows.specs import KesuServiceTask

_KNOWN_NAMES = set(DEFAULT_FUNCTIONS) | {"True", "False", "None"}
UNKNOWN = None  # a producer whose outputs cannot be known


def unproduced_reads(spec: Any, forms: dict[str, Any], filename: str) -> list[Problem]:
    """Return a warning per gateway variable that no earlier step of ``spec`` produces."""
    produced_anywhere = _produced_anywhere(spec, forms)
    start_known = _start_form(spec, forms) is not None
    problems = []
    for task_spec in spec.task_specs.values():
        if not isinstance(task_spec, MultiChoice) or not getattr(task_spec, "bpmn_id", None):
            continue
        upstream = _upstream(task_spec, forms)
        if upstream is UNKNOWN:
            continue
        for name in sorted(_reads(task_spec)):
            if name in upstream:
                continue
            later = sorted(step for step, names in produced_anywhere.items() if name in names)
            if later:
                problems.append(Problem(filename, f"condition reads `{name}`, which only later steps set "
                                                  f"({', '.join(later)}); the gateway runs before them",
                                        element_id=task_spec.bpmn_id, severity="warning"))
            elif start_known:
                problems.append(Problem(filename, f"condition reads `{name}`, which no earlier step produces (not "
                                                  f"in the start form, a script, a decision, a service result or "
                                                  f"a form before it)", element_id=task_spec.bpmn_id,
                                        severity="warning"))
    return problems


def _reads(gateway: MultiChoice) -> set[str]:
    names: set[str] = set()
    for condition, _target in gateway.cond_task_specs:
        if condition is not None and getattr(condition, "args", None):
            names |= expression_names(condition.args[0])
    return names


def expression_names(expression: str) -> set[str]:
    """Return the free variable names an expression reads (none when it does not parse)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return set()
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound - _KNOWN_NAMES


def _upstream(gateway: Any, forms: dict[str, Any]) -> set[str] | None:
    """Return what every step before ``gateway`` can produce, or None when something is unknowable."""
    names: set[str] = set()
    seen: set[int] = set()
    stack = list(gateway.inputs)
    while stack:
        step = stack.pop()
        if id(step) in seen:
            continue
        seen.add(id(step))
        produced = _produces(step, forms)
        if produced is UNKNOWN:
            return UNKNOWN
        names |= produced
        stack.extend(step.inputs)
    return names


def _produced_anywhere(spec: Any, forms: dict[str, Any]) -> dict[str, set[str]]:
    found = {}
    for step in spec.task_specs.values():
        produced = _produces(step, forms)
        if produced and getattr(step, "bpmn_id", None):
            found[step.bpmn_name or step.bpmn_id] = produced
    return found


def _produces(step: Any, forms: dict[str, Any]) -> set[str] | None:
    if isinstance(step, SubWorkflowTask):
        return UNKNOWN
    names: set[str] = set()
    for script in (getattr(step, "script", None), getattr(step, "prescript", None),
                   getattr(step, "postscript", None)):
        if script:
            names |= _assigned(script)
    if isinstance(step, KesuServiceTask) and step.result_variable:
        names.add(step.result_variable)
    if isinstance(step, BusinessRuleTaskMixin):
        names |= {o.name for o in step.dmnEngine.decision_table.outputs if o.name}
    definition = getattr(step, "event_definition", None)
    if "Message" in type(definition).__name__ and not _throws(step):
        if not getattr(definition, "message_var", None):
            return UNKNOWN  # the payload's fields cannot be known
        names.add(definition.message_var)
    if isinstance(getattr(definition, "variable", None), str) and not _throws(step):
        names.add(definition.variable)  # a caught error, signal or escalation's payload
    if getattr(step, "manual", False) or _is_start(step):
        props = (getattr(step, "extensions", None) or {}).get("properties", {}) or {}
        schema = forms.get(_form_stem(props))
        if schema:
            names |= set((schema.get("properties") or {}).keys())
        if props.get("actorVariable"):
            names.add(props["actorVariable"])
    return names


def _throws(step: Any) -> bool:
    kind = type(step).__name__
    return "Throw" in kind or "Send" in kind or kind == "EndEvent"


def _is_start(step: Any) -> bool:
    return type(step).__name__ == "StartEvent"


def _start_form(spec: Any, forms: dict[str, Any]) -> dict[str, Any] | None:
    for step in spec.task_specs.values():
        if _is_start(step):
            props = (getattr(step, "extensions", None) or {}).get("properties", {}) or {}
            return forms.get(_form_stem(props))
    return None


def _form_stem(props: dict[str, str]) -> str:
    key = props.get("formKey") or props.get("formJsonSchemaFilename") or ""
    return key.rsplit("/", 1)[-1].removesuffix(".json").removesuffix("-schema")


def _assigned(script: str) -> set[str]:
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return set()
    return set(_targets(node for node in ast.walk(tree)
                        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.With))))


def _targets(nodes: Iterable[ast.AST]) -> Iterable[str]:
    for node in nodes:
        targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
        for target in targets:
            if target is None:
                continue
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    yield name.id


def start_variables(specs: Iterable[Any], forms: dict[str, Any]) -> list[str]:
    """Return the names a process reads that none of its steps sets: what its start data must hold."""
    reads: set[str] = set()
    produced: set[str] = set()
    for spec in specs:
        for step in spec.task_specs.values():
            reads |= _step_reads(step)
            produced |= _produces(step, forms) or set()
    return sorted(reads - produced)


def _step_reads(step: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(step, MultiChoice):
        names |= _reads(step)
    for script in (getattr(step, "script", None), getattr(step, "prescript", None),
                   getattr(step, "postscript", None)):
        if script:
            names |= _script_reads(script)
    if isinstance(step, KesuServiceTask):
        for param in step.operation_params.values():
            names |= expression_names(str(param.get("value", "")))
    if isinstance(step, BusinessRuleTaskMixin):
        for column in step.dmnEngine.decision_table.inputs:
            names |= expression_names(column.expression or "")
    definition = getattr(step, "event_definition", None)
    for candidate in getattr(definition, "event_definitions", [definition]):
        expression = getattr(candidate, "expression", None)
        if isinstance(expression, str) and "Timer" in type(candidate).__name__:
            names |= expression_names(expression)
    props = (getattr(step, "extensions", None) or {}).get("properties", {}) or {}
    if props.get("candidateGroupsExpression"):
        names |= expression_names(props["candidateGroupsExpression"])
    return names


def _script_reads(script: str) -> set[str]:
    """Names a script reads before (or without) assigning them; a rough, order-blind reading."""
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return set()
    loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loads - _assigned(script) - _KNOWN_NAMES

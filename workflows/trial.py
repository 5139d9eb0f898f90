"""Test runs of unsaved definitions: run a process in memory with chosen service outcomes.

Nothing here touches a database or an operator's handler: every service task answers from
the outcome the analyst chose (a result dict, a BPMN error code, or an incident), user tasks
are completed with the analyst's form data (or a default that satisfies the form's schema),
and timers the analyst marks are fired by moving the run's clock to their due time. The
result is the ordered list of steps with the data after each, and the path for the diagram.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Mapping

from lxml import etree
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from workflows.definitions import DefinitionError, KesuParser, Problem, SpecBundle, file_kind, parse_xml_safely
from workflows.engine import CommandContext, EngineError, Execution, SandboxEnvironment
from workflows.forms import form_errors
from workflows.persistence import data_diff, to_jsonable
from workflows.services import OperatorRegistry, ServiceCall, ServiceError
from workflows.specs import KesuDMNEngine, KesuServiceTask

ACTOR = "studio-test-run"
MAX_ROUNDS = 60
_STEP_STATES = {TaskState.COMPLETED: "completed", TaskState.ERROR: "error", TaskState.READY: "ready",
                TaskState.WAITING: "waiting", TaskState.STARTED: "started"}
_REPEAT = 50  # the chosen outcome answers each call of a service task, loops included


@dataclass
class TrialInput:
    """What the analyst gives a test run."""

    process_id: str | None = None
    start_data: dict[str, Any] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)  # element id -> outcome
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)  # user task element id -> data
    fire_timers: list[str] = field(default_factory=list)  # timer event element ids


@dataclass
class TrialStep:
    """One element the run passed through (or stands on at the end)."""

    element_id: str
    name: str
    type: str
    state: str
    data: dict[str, Any]
    diff: dict[str, Any]
    detail: list[dict[str, Any]] = field(default_factory=list)
    flow_id: str | None = None  # the sequence flow taken into this element

    def to_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "name": self.name, "type": self.type, "state": self.state,
                "data": self.data, "diff": self.diff, "detail": self.detail, "flow_id": self.flow_id}


@dataclass
class TrialResult:
    """The outcome of a test run; ``problems`` explain why it stopped early or could not start."""

    status: str
    process_id: str | None = None
    steps: list[TrialStep] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "process_id": self.process_id, "steps": [s.to_dict() for s in self.steps],
                "problems": [p.to_dict() for p in self.problems], "waiting": self.waiting,
                "data": to_jsonable(self.data)}


@dataclass(frozen=True)
class ElementInfo:
    """What the XML says about one element: its tag, name and (for flows) its ends."""

    tag: str
    name: str
    file: str
    source: str | None = None
    target: str | None = None


def element_index(files: Mapping[str, str]) -> dict[str, ElementInfo]:
    """Return {element id: ElementInfo} for every id'd BPMN element of the files (DI excluded)."""
    index: dict[str, ElementInfo] = {}
    for path in sorted(files):
        if file_kind(path) != "bpmn":
            continue
        try:
            root = parse_xml_safely(files[path], filename=path)
        except DefinitionError:
            continue
        for element in root.iter():
            if not isinstance(element.tag, str) or not element.get("id"):
                continue
            qname = etree.QName(element)
            if "BPMN/20100524/MODEL" not in (qname.namespace or ""):
                continue
            index.setdefault(element.get("id"), ElementInfo(qname.localname, element.get("name") or "", path,
                                                            element.get("sourceRef"), element.get("targetRef")))
    return index


def service_task_ids(bundle: SpecBundle) -> dict[str, str]:
    """Return {service task element id: operator name} over every process of a bundle."""
    found: dict[str, str] = {}
    for spec in all_specs(bundle):
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, KesuServiceTask):
                found[task_spec.name] = task_spec.operation_name
    return found


def default_form_data(schema: dict[str, Any]) -> dict[str, Any]:
    """Return data that satisfies a form's required fields where the schema allows guessing."""
    props = schema.get("properties") or {}
    data: dict[str, Any] = {}
    for name in schema.get("required") or []:
        data[name] = _default_value(props.get(name) or {})
    for name, prop in props.items():
        if name not in data and isinstance(prop, dict) and "default" in prop:
            data[name] = prop["default"]
    for _round in range(len(props)):  # fields required only by if/then rules on the values chosen so far
        missing = [name for name, message in form_errors(schema, data).items()
                   if message == "this field is required" and name in props and name not in data]
        if not missing:
            break
        data.update({name: _default_value(props[name] or {}) for name in missing})
    return data


def _default_value(prop: dict[str, Any]) -> Any:
    if "default" in prop:
        return prop["default"]
    if prop.get("enum"):
        return prop["enum"][0]
    if "const" in prop:
        return prop["const"]
    for key in ("oneOf", "anyOf"):  # choices written as [{"const": ..., "title": ...}, ...]
        options = [o for o in prop.get(key) or [] if isinstance(o, dict)]
        if options:
            return _default_value({**{k: v for k, v in prop.items() if k != key}, **options[0]})
    kind = prop.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "boolean":
        return True
    if kind in ("number", "integer"):
        return prop.get("minimum", 0) if kind == "number" else int(prop.get("minimum", 0))
    if kind == "array":
        return []
    if kind == "object":
        return default_form_data(prop)
    return "test" * max(1, -(-int(prop.get("minLength", 1)) // 4))


def run_trial(bundle: SpecBundle, files: Mapping[str, str], given: TrialInput, *, now: datetime,
              environment: SandboxEnvironment, max_tasks: int = 900) -> TrialResult:
    """Run one process of ``bundle`` in memory, answering every outside call from ``given``."""
    process_id = given.process_id or (sorted(bundle.specs)[0] if bundle.specs else None)
    if process_id not in bundle.specs:
        known = ", ".join(sorted(bundle.specs)) or "none"
        return TrialResult("invalid", process_id, problems=[Problem(
            "", f"process '{process_id}' is not in the draft; pick one of: {known}")])
    operators, recorded = _answers(bundle, given.services)
    context = CommandContext(now=now, actor=ACTOR, recorded_services=recorded)
    problems: list[Problem] = []
    try:
        execution = Execution.start(bundle, process_id, copy.deepcopy(given.start_data), context,
                                    operators=operators, environment=environment, max_tasks=max_tasks)
    except Exception as error:  # analyst content runs here: any failure is a problem to show, never a 500
        return TrialResult("error", process_id, problems=[Problem("", f"the run stopped before its first wait: "
                                                                      f"{_first_line(error)}")])
    try:
        _drive(execution, given, bundle, problems)
    except Exception as error:  # as above: SpiffWorkflow raises bare exceptions for bad timer values
        problems.append(Problem("", f"the run stopped: {_first_line(error)}"))
    index = element_index(files)
    steps = _steps(execution, index)
    if execution.error_message:
        failed = next((s.element_id for s in steps if s.state == "error"), None)
        problems.append(Problem(index[failed].file if failed in index else "", execution.error_message,
                                element_id=failed))
    waiting = [f"{s.name or s.element_id} ({s.type}) is {s.state}" for s in steps
               if s.state in ("ready", "waiting", "started")]
    return TrialResult(execution.status, process_id, steps, problems, waiting, to_jsonable(execution.data))


def _drive(execution: Execution, given: TrialInput, bundle: SpecBundle, problems: list[Problem]) -> None:
    """Answer user tasks and fire the chosen timers until the run ends or cannot go on."""
    fire = set(given.fire_timers)
    for _round in range(MAX_ROUNDS):
        if execution.status != "waiting":
            return
        due = sorted((at, tid) for tid, name, at in execution.timers() if name in fire)
        if due:
            execution.context.now = max(execution.context.now, due[0][0])
            execution.fire_timers()
            continue
        humans = execution.human_tasks()
        if not humans:
            return
        task = humans[0]
        data = given.forms.get(task.name)
        if data is None:
            schema = bundle.forms.get(task.form_key or "")
            data = default_form_data(schema) if schema else {}
            errors = form_errors(schema, data) if schema else {}
            if errors:
                problems.append(Problem("", f"user task '{task.title}': no form data was given and no default "
                                            f"satisfies form '{task.form_key}' ({_fields(errors)}); give the "
                                            f"form data for {task.name}", element_id=task.name))
                return
        try:
            execution.complete_task(task.task_id, copy.deepcopy(data), actor=ACTOR)
        except EngineError as error:
            detail = f" ({_fields(error.fields)})" if error.fields else ""
            problems.append(Problem("", f"user task '{task.title}': {error.message}{detail}", element_id=task.name))
            return
    problems.append(Problem("", f"the run was stopped after {MAX_ROUNDS} rounds of user tasks and timers; "
                                f"a loop probably never ends with the data given", severity="warning"))


def _first_line(error: Exception) -> str:
    text = str(error).split("\n")[0] or type(error).__name__
    return f"{type(error).__name__}: {text}" if type(error) is Exception else text


def _fields(errors: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in errors.items())


def _answers(bundle: SpecBundle, outcomes: dict[str, dict[str, Any]]) -> tuple[OperatorRegistry,
                                                                                dict[str, list[dict[str, Any]]]]:
    """Build a registry whose operators never run, and the recorded answers that replace them."""
    registry = OperatorRegistry()
    recorded: dict[str, list[dict[str, Any]]] = {}
    for element_id, operator in service_task_ids(bundle).items():
        registry.register(operator, _never_called, parameters=())
        outcome = outcomes.get(element_id) or {"result": {}}
        if outcome.get("incident"):
            answer = {"error": {"code": "incident", "message": str(outcome.get("message") or
                                                                   "the analyst chose an incident for this test run")}}
        elif outcome.get("error"):
            answer = {"error": {"code": str(outcome["error"]), "message": str(outcome.get("message") or
                                                                          f"test run: BPMN error {outcome['error']}")}}
        else:
            answer = {"result": outcome.get("result") or {}}
        recorded[element_id] = [answer] * _REPEAT
    return registry, recorded


def _never_called(call: ServiceCall) -> dict[str, Any]:
    raise ServiceError("a test run never calls an operator", code="test_run")


def all_specs(bundle: SpecBundle) -> list[Any]:
    seen: dict[int, Any] = {}
    for process_id, spec in bundle.specs.items():
        for candidate in [spec, *bundle.subprocess_specs[process_id].values()]:
            if candidate is not None:
                seen[id(candidate)] = candidate
    return list(seen.values())


def _steps(execution: Execution, index: dict[str, ElementInfo]) -> list[TrialStep]:
    """Return every element the run reached, in the order it happened, with data and diffs."""
    workflow = execution.workflow
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.tasks.values())
    details: dict[str, list[dict[str, Any]]] = {}
    for event in execution.events:
        if event.task_id and not event.type.startswith("task."):
            details.setdefault(event.task_id, []).append({"type": event.type, **to_jsonable(event.payload)})
    flows = {(info.source, info.target): element_id for element_id, info in index.items() if info.tag == "sequenceFlow"}
    reached = [t for t in tasks if getattr(t.task_spec, "bpmn_id", None) and (
        t.state in _STEP_STATES or (t.state == TaskState.CANCELLED and _is_activity(index.get(t.task_spec.bpmn_id))))]
    steps = []
    for task in sorted(reached, key=lambda t: t.last_state_change):
        spec = task.task_spec
        info = index.get(spec.bpmn_id)
        parent = task.parent
        while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
            parent = parent.parent
        before = parent.data if parent is not None else {}
        done = task.state == TaskState.COMPLETED
        steps.append(TrialStep(spec.bpmn_id, spec.bpmn_name or (info.name if info else "") or "",
                               info.tag if info else type(spec).__name__, _STEP_STATES.get(task.state, "cancelled"),
                               to_jsonable(task.data), data_diff(before, task.data) if done else {},
                               details.get(str(task.id), []),
                               flows.get((parent.task_spec.bpmn_id, spec.bpmn_id)) if parent is not None else None))
    return steps


def _is_activity(info: ElementInfo | None) -> bool:
    """An interrupted task or subprocess is a step worth showing; a cancelled waiting event is not."""
    return info is not None and (info.tag.endswith("Task") or info.tag in ("subProcess", "callActivity", "task"))


@dataclass
class DecisionTrial:
    """A decision table evaluated on sample input: each row's match and the result."""

    decision_id: str
    name: str
    hit_policy: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision_id, "name": self.name, "hit_policy": self.hit_policy,
                "rows": self.rows, "result": to_jsonable(self.result),
                "problems": [p.to_dict() for p in self.problems]}


def _row_matches(engine: KesuDMNEngine, rule: Any, task: Any) -> bool:
    """Return whether every input cell of a row holds for the task's data (errors propagate)."""
    for entry in rule.inputEntries:
        for cell in entry.lhs:
            if cell is not None and not engine.evaluate(entry.input.expression or entry.input.label, cell, task):
                return False
    return True


class _DecisionScriptEngine(PythonScriptEngine):
    """Evaluates a table's cells outside a workflow; a failure names the expression and the cause."""

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except Exception as error:
            raise ValueError(f"`{expression}`: {error}") from error


def decision_ids(files: Mapping[str, str]) -> list[str]:
    """Return the decision ids of the DMN files (the first table of each decision is evaluated)."""
    return sorted(_dmn_parser(files).dmn_parsers)


def _dmn_parser(files: Mapping[str, str]) -> KesuParser:
    parser = KesuParser()
    for path in sorted(files):
        if file_kind(path) == "dmn":
            parser.add_dmn_xml(parse_xml_safely(files[path], filename=path), filename=path)
    return parser


def evaluate_decision(files: Mapping[str, str], decision_id: str | None, data: dict[str, Any], *,
                      environment: SandboxEnvironment) -> DecisionTrial:
    """Evaluate one decision table with sample input; report which rows matched and the result."""
    try:
        parser = _dmn_parser(files)
    except (DefinitionError, SpiffWorkflowException) as error:
        problems = error.problems if isinstance(error, DefinitionError) else [Problem("", str(error))]
        return DecisionTrial(decision_id or "", "", "", problems=problems)
    decision_id = decision_id or (sorted(parser.dmn_parsers)[0] if parser.dmn_parsers else "")
    dmn = parser.dmn_parsers.get(decision_id)
    if dmn is None:
        known = ", ".join(sorted(parser.dmn_parsers)) or "none"
        return DecisionTrial(decision_id, "", "", problems=[
            Problem("", f"decision '{decision_id}' is not in the draft; it has {known}")])
    try:
        dmn.parse()
        table = dmn.decision.decisionTables[0]
    except (SpiffWorkflowException, IndexError, AttributeError) as error:
        return DecisionTrial(decision_id, "", "", problems=[
            Problem(dmn.filename or "", f"cannot read the table: {error}", element_id=decision_id)])
    engine = KesuDMNEngine(table)
    task_spec = SimpleNamespace(name=decision_id, bpmn_id=decision_id, bpmn_name=table.name)
    task = SimpleNamespace(data=copy.deepcopy(data), id=None, task_spec=task_spec)
    task.workflow = SimpleNamespace(script_engine=_DecisionScriptEngine(environment))
    trial = DecisionTrial(decision_id, table.name or dmn.get_name(), (table.hit_policy or "UNIQUE").upper())
    for rule in table.rules:
        try:
            matched = _row_matches(engine, rule, task)
            trial.rows.append({"row": rule.row_number, "rule_id": rule.id, "description": rule.description,
                               "matched": matched})
        except Exception as error:  # an input cell the sandbox refuses or that fails on this data
            trial.rows.append({"row": rule.row_number, "rule_id": rule.id, "description": rule.description,
                               "matched": False, "error": str(error).split("\n")[0]})
            trial.problems.append(Problem(dmn.filename or "", f"row {rule.row_number}: {str(error).splitlines()[0]}",
                                          element_id=rule.id))
    if not trial.problems:
        try:
            trial.result = engine.result(task)
        except Exception as error:  # hit-policy violations and output cells that fail
            trial.problems.append(Problem(dmn.filename or "", str(error).split("\n")[0], element_id=decision_id))
    return trial

"""The CLI as an operator uses it: validate (malicious files included), deploy, instances, verify."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.deploy import register_test_operators
from tests.support.engine import DATA, xml_process

SECRET = Path("/tmp/kesu-cli-secret.txt")
MARKER = Path("/tmp/kesu-cli-marker")

XXE = f"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{SECRET}">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" isExecutable="true"><bpmn:scriptTask id="t"><bpmn:script>leak = "&xxe;"</bpmn:script>
  </bpmn:scriptTask></bpmn:process></bpmn:definitions>"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"><bpmn:process id="p">&lol3;</bpmn:process></bpmn:definitions>"""
SYSTEM_CALL = xml_process(f"""<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" default="f2"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f_bad</bpmn:outgoing>
    <bpmn:outgoing>f2</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:sequenceFlow id="f_bad" sourceRef="gw" targetRef="e"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">__import__('os').system('touch {MARKER}') == 0</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="e" />
  <bpmn:endEvent id="e"><bpmn:incoming>f_bad</bpmn:incoming><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>""")


@pytest.mark.parametrize(("content", "message"), [
    (XXE, "DOCTYPE and ENTITY declarations are not allowed"),
    (LAUGHS, "DOCTYPE and ENTITY declarations are not allowed"),
    (SYSTEM_CALL, "[gw]: condition `__import__('os').system"),
    ("<bpmn:definitions", "not well-formed XML"),
])
def test_validate_rejects_malicious_or_broken_diagrams(cli_runner, tmp_path, content, message) -> None:
    SECRET.write_text("TOP-SECRET")
    MARKER.unlink(missing_ok=True)
    path = tmp_path / "evil.bpmn"
    path.write_text(content)
    result = cli_runner.invoke(args=["bpmn", "validate", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert "TOP-SECRET" not in result.output
    assert not MARKER.exists()


def test_validate_refuses_an_oversized_file(app, cli_runner, tmp_path) -> None:
    path = tmp_path / "big.bpmn"
    path.write_text(" " * (app.config["MAX_DIAGRAM_BYTES"] + 1))
    result = cli_runner.invoke(args=["bpmn", "validate", str(path)])
    assert result.exit_code == 1 and "the limit is" in result.output


def test_validate_lists_each_problem_with_its_element(app, cli_runner, tmp_path) -> None:
    register_test_operators(app)
    broken = (DATA / "engine" / "complaint_engine.bpmn").read_text().replace(
        'id="refund_now"', 'id="no_such_operator"').replace(">sla<", '>"PT2 hours"<')
    path = tmp_path / "broken.bpmn"
    path.write_text(broken)
    result = cli_runner.invoke(args=["bpmn", "validate", str(path), str(DATA / "engine" / "priority.dmn")])
    assert result.exit_code == 1
    line = {element: _line_of(broken, element) for element in ("refund", "sla", "handle")}
    assert f"{path}:{line['refund']} [refund]: unknown service operator 'no_such_operator'" in result.output
    assert f"{path}:{line['sla']} [sla]: timer expression `\"PT2 hours\"` is not an ISO 8601 duration" in result.output
    assert f"{path}:{line['handle']} [handle]: form 'handle' is not among the files" in result.output


def _line_of(text: str, element_id: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if f'id="{element_id}"' in line)


def test_validate_names_file_and_line_of_spiffworkflow_problems(app, cli_runner, tmp_path) -> None:
    """SpiffWorkflow's own parse problems carry no line (it reads node.line_number, lxml has sourceline),
    and one found while assembling a process (a decision table missing) carried no file at all."""
    register_test_operators(app)
    source = (DATA / "engine" / "complaint_engine.bpmn").read_text()
    no_operator = tmp_path / "no_operator.bpmn"
    no_operator.write_text(source.replace("spiffworkflow:serviceTaskOperator", "spiffworkflow:unknownExtension"))
    result = cli_runner.invoke(args=["bpmn", "validate", str(no_operator), str(DATA / "engine" / "priority.dmn")])
    assert result.exit_code == 1
    assert f"{no_operator}:{_line_of(source, 'refund')} [refund]: A Service Task must have an operator" in result.output
    without_table = tmp_path / "without_table.bpmn"
    without_table.write_text(source)
    result = cli_runner.invoke(args=["bpmn", "validate", str(without_table)])
    assert result.exit_code == 1
    decision_task = next(line.split('id="')[1].split('"')[0] for line in source.splitlines()
                         if "businessRuleTask" in line)
    assert f"{without_table}:{_line_of(source, decision_task)} [{decision_task}]: No DMN" in result.output


def test_validate_accepts_good_files(app, cli_runner) -> None:
    register_test_operators(app)
    files = [str(DATA / "engine" / name) for name in ("complaint_engine.bpmn", "priority.dmn", "handle.json")]
    result = cli_runner.invoke(args=["bpmn", "validate", *files])
    assert result.exit_code == 0, result.output
    assert "ok: 3 file(s) valid" in result.output


def test_deploy_start_show_and_verify(app, cli_runner, clock, tmp_path) -> None:
    from app.services import processes
    register_test_operators(app)
    (tmp_path / "bpmn" / "forms").mkdir(parents=True)
    (tmp_path / "rules").mkdir()
    for name, folder in (("complaint_engine.bpmn", "bpmn"), ("handle.json", "bpmn/forms"), ("priority.dmn", "rules")):
        (tmp_path / folder / name).write_text((DATA / "engine" / name).read_text())
    app.config["BPMN_DIR"], app.config["RULES_DIR"] = str(tmp_path / "bpmn"), str(tmp_path / "rules")
    try:
        first = cli_runner.invoke(args=["bpmn", "deploy"])
        assert first.exit_code == 0, first.output
        assert first.output.startswith("deployed version 1")
        again = cli_runner.invoke(args=["bpmn", "deploy"])
        assert again.output.startswith("unchanged, already deployed as version 1")
    finally:
        app.config["BPMN_DIR"], app.config["RULES_DIR"] = "bpmn", "rules"
    instance = processes.start_instance("complaint_engine", {"text": "t", "emotion": "calm", "amount": 700,
                                                              "order_id": "O"}, actor="t", now=clock.now())
    listing = cli_runner.invoke(args=["instances", "list"])
    assert f"{instance.id:>6}  complaint_engine" in listing.output and "waiting" in listing.output
    shown = cli_runner.invoke(args=["instances", "show", str(instance.id)])
    assert "open task" in shown.output and "decision.evaluated" in shown.output
    assert cli_runner.invoke(args=["instances", "show", "999999"]).exit_code == 1
    verified = cli_runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and verified.output.startswith("intact:")


def test_instances_list_refuses_an_unknown_status(cli_runner) -> None:
    """A mistyped status listed nothing and exited 0, as if there were no such instances."""
    result = cli_runner.invoke(args=["instances", "list", "--status", "wiating"])
    assert result.exit_code == 2
    assert "'wiating' is not one of" in result.output and "'suspended'" in result.output
    assert cli_runner.invoke(args=["instances", "list", "--status", "suspended"]).exit_code == 0


def test_audit_verify_of_a_missing_instance_is_not_intact(cli_runner) -> None:
    """`audit verify 999999` said "intact: 0 events" and exited 0 for an instance that never existed."""
    result = cli_runner.invoke(args=["audit", "verify", "999999"])
    assert result.exit_code == 1
    assert "instance 999999 does not exist" in result.output and "intact" not in result.output

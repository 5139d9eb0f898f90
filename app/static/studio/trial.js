/* Studio test run: sample data and chosen service outcomes in, the path out. The draft is saved,
   run in memory on the server (nothing stored, no operator called), and the steps are drawn on the
   diagram one at a time (markers on elements and flows, numbered overlays). No inline script. */
(function () {
  "use strict";
  var box = document.getElementById("test-run");
  if (!box) { return; }
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var setup = null, result = null, position = 0, overlayIds = [], marked = [];

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function status(text, isError) { var s = $("trial-status"); s.textContent = text; s.className = isError ? "field-error" : ""; }
  function pretty(value) { return JSON.stringify(value, null, 2); }

  function loadSetup() {
    return fetch(box.dataset.setupUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        setup = body;
        if (box.dataset.editorKind === "dmn") { setup.kind = "decision"; }  // from a table's editor: evaluate the table
        renderInputs();
      });
  }

  function renderInputs() {
    var processes = $("trial-process"), decisions = $("trial-decision");
    processes.innerHTML = ""; decisions.innerHTML = "";
    (setup.processes || []).forEach(function (p) { processes.appendChild(el("option", { value: p }, p)); });
    (setup.decisions || []).forEach(function (d) { decisions.appendChild(el("option", { value: d.decision_id }, d.decision_id)); });
    $("trial-process-row").hidden = setup.kind !== "process";
    $("trial-decision-row").hidden = setup.kind !== "decision";
    var services = $("trial-services"); services.innerHTML = "";
    if ((setup.services || []).length) { services.appendChild(el("h4", {}, "服务任务结果 / Service task outcomes")); }
    (setup.services || []).forEach(function (s) {
      var row = el("fieldset", { "class": "trial-service", "data-element-id": s.element_id });
      row.appendChild(el("legend", {}, (s.name || s.element_id) + " · " + s.operator));
      var kind = el("select", { name: "kind", "aria-label": "outcome of " + s.element_id });
      [["result", "结果 / result"], ["error", "BPMN 错误 / BPMN error"], ["incident", "故障 / incident"]].forEach(function (o) {
        kind.appendChild(el("option", { value: o[0] }, o[1]));
      });
      var value = el("textarea", { name: "result", rows: "2", spellcheck: "false", "aria-label": "result of " + s.element_id });
      value.value = JSON.stringify(s.example || {});
      var code = el("input", { name: "error", list: "trial-error-codes", placeholder: "error code", "aria-label": "error code of " + s.element_id });
      code.hidden = true;
      kind.addEventListener("change", function () { value.hidden = kind.value !== "result"; code.hidden = kind.value !== "error"; });
      row.appendChild(kind); row.appendChild(value); row.appendChild(code);
      services.appendChild(row);
    });
    var codes = $("trial-error-codes"); codes.innerHTML = "";
    (setup.error_codes || []).forEach(function (c) { codes.appendChild(el("option", { value: c })); });
    var forms = $("trial-forms"); forms.innerHTML = "";
    if ((setup.user_tasks || []).length) { forms.appendChild(el("h4", {}, "用户任务表单 / User task form data")); }
    (setup.user_tasks || []).forEach(function (t) {
      var label = el("label", {}, (t.name || t.element_id) + (t.form_key ? " · form " + t.form_key : ""));
      var area = el("textarea", { rows: "2", spellcheck: "false", "data-element-id": t.element_id, "class": "trial-form" });
      area.value = JSON.stringify(t["default"] || {});
      label.appendChild(area); forms.appendChild(label);
    });
    var timers = $("trial-timers"); timers.innerHTML = "";
    if ((setup.timers || []).length) { timers.appendChild(el("h4", {}, "触发定时器 / Fire timers")); }
    (setup.timers || []).forEach(function (t) {
      var label = el("label", { "class": "inline" }), check = el("input", { type: "checkbox", value: t.element_id, "class": "trial-timer" });
      label.appendChild(check); label.appendChild(document.createTextNode(" " + (t.name || t.element_id)));
      timers.appendChild(label);
    });
    var problems = $("trial-problems"); problems.innerHTML = "";
    (setup.problems || []).forEach(function (p) { problems.appendChild(problemItem(p)); });
    suggestStart();
  }

  // Start data: the names the chosen process reads that none of its steps sets, until the analyst types.
  var startTouched = false;
  function suggestStart() {
    var keys = (setup.start_keys || {})[$("trial-process").value] || [];
    $("trial-start-keys").textContent = keys.length ? "读取但未由任何步骤设置 / read but set by no step: " + keys.join(", ") : "";
    if (startTouched || setup.kind !== "process") { return; }
    var sample = {};
    var examples = setup.start_examples || {};
    keys.forEach(function (k) { sample[k] = Object.prototype.hasOwnProperty.call(examples, k) ? examples[k] : null; });
    $("trial-start").value = JSON.stringify(sample, null, 2);
  }

  function parseJSON(text, what) {
    try { return JSON.parse(text || "{}"); } catch (e) { throw new Error(what + " is not valid JSON: " + e.message); }
  }

  function collect() {
    var body = { kind: setup.kind, start_data: parseJSON($("trial-start").value, "start data"), services: {}, forms: {}, fire_timers: [] };
    if (setup.kind === "decision") { body.decision_id = $("trial-decision").value; return body; }
    body.process_id = $("trial-process").value;
    Array.prototype.forEach.call(document.querySelectorAll(".trial-service"), function (row) {
      var id = row.dataset.elementId, kind = row.querySelector("[name=kind]").value;
      if (kind === "result") { body.services[id] = { result: parseJSON(row.querySelector("[name=result]").value, "result of " + id) }; }
      else if (kind === "error") { body.services[id] = { error: row.querySelector("[name=error]").value }; }
      else { body.services[id] = { incident: true }; }
    });
    Array.prototype.forEach.call(document.querySelectorAll(".trial-form"), function (area) {
      body.forms[area.dataset.elementId] = parseJSON(area.value, "form data of " + area.dataset.elementId);
    });
    Array.prototype.forEach.call(document.querySelectorAll(".trial-timer:checked"), function (c) { body.fire_timers.push(c.value); });
    return body;
  }

  function run() {
    var body;
    try { body = collect(); } catch (e) { status(e.message, true); return; }
    status("保存并运行… / Saving and running…");
    window.KesuStudio.save().then(function (saved) {
      if (saved === false) { status("Fix the save error first; the test run uses the saved draft.", true); return null; }
      return fetch(box.dataset.runUrl, { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body) });
    }).then(function (r) {
      if (!r) { return; }
      return r.json().then(function (answer) {
        if (!r.ok) {
          var fields = (answer.errors || []).map(function (e) { return e.field + ": " + e.message; }).join("; ");
          status((answer.detail || "The test run was refused") + (fields ? " — " + fields : ""), true);
          return;
        }
        show(answer);
      });
    }).catch(function (e) { status("Test run failed: " + e.message, true); });
  }

  function problemItem(p) {
    var li = el("li", { "class": "problem " + (p.severity || "error"), "data-element-id": p.element_id || "" },
      (p.element_id ? "[" + p.element_id + "] " : "") + p.message);
    return li;
  }

  function show(answer) {
    result = answer; position = 0;
    $("trial-result").hidden = false;
    var problems = $("trial-problems"); problems.innerHTML = "";
    (answer.problems || []).forEach(function (p) { problems.appendChild(problemItem(p)); });
    if (answer.kind === "decision") { showDecision(answer); return; }
    $("trial-steps-box").hidden = false; $("trial-decision-box").hidden = true;
    var list = $("trial-steps"); list.innerHTML = "";
    answer.steps.forEach(function (s, i) {
      var li = el("li", { "data-element-id": s.element_id, "class": "trial-step state-" + s.state },
        (s.name || s.element_id) + " · " + s.type + (s.state !== "completed" ? " (" + s.state + ")" : ""));
      li.addEventListener("click", function () { go(i); });
      list.appendChild(li);
    });
    status("结果 / Result: " + answer.status + " · " + answer.steps.length + " step(s)" +
           (answer.waiting.length ? " · waiting: " + answer.waiting.join(", ") : ""), answer.status === "error" || answer.status === "invalid");
    go(answer.steps.length ? 0 : -1);
  }

  function showDecision(answer) {
    $("trial-steps-box").hidden = true; $("trial-decision-box").hidden = false;
    var body = $("trial-rows"); body.innerHTML = "";
    answer.rows.forEach(function (r) {
      var tr = el("tr", { "class": r.matched ? "matched" : "", "data-rule-id": r.rule_id });
      tr.appendChild(el("td", {}, String(r.row)));
      tr.appendChild(el("td", {}, r.description || r.rule_id));
      tr.appendChild(el("td", {}, r.matched ? "✔ matched" : (r.error ? "error: " + r.error : "—")));
      body.appendChild(tr);
    });
    $("trial-decision-result").textContent = pretty(answer.result);
    status("命中 / Matched rows: " + answer.rows.filter(function (r) { return r.matched; }).map(function (r) { return r.row; }).join(", ") +
           " · hit policy " + answer.hit_policy, answer.problems.length > 0);
  }

  function clearDiagram(modeler) {
    var canvas = modeler.get("canvas"), registry = modeler.get("elementRegistry"), overlays = modeler.get("overlays");
    marked.forEach(function (m) { if (registry.get(m[0])) { canvas.removeMarker(m[0], m[1]); } });
    overlayIds.forEach(function (o) { overlays.remove(o); });
    marked = []; overlayIds = [];
  }

  function mark(modeler, id, cls) {
    if (id && modeler.get("elementRegistry").get(id)) { modeler.get("canvas").addMarker(id, cls); marked.push([id, cls]); }
  }

  function go(index) {
    position = index;
    var steps = result.steps, modeler = window.KesuStudio && window.KesuStudio.modeler;
    $("trial-prev").disabled = index <= 0; $("trial-next").disabled = index >= steps.length - 1;
    $("trial-position").textContent = steps.length ? "第 " + (index + 1) + " / " + steps.length + " 步 · step " + (index + 1) + " of " + steps.length : "no steps";
    Array.prototype.forEach.call(document.querySelectorAll(".trial-step"), function (li, i) { li.classList.toggle("current", i === index); });
    var step = steps[index];
    $("trial-data").textContent = step ? pretty(step.data) : "";
    $("trial-diff").textContent = step ? pretty(step.diff) : "";
    $("trial-detail").textContent = step && step.detail.length ? pretty(step.detail) : "—";
    if (!modeler || !modeler.get) { return; }
    clearDiagram(modeler);
    var overlays = modeler.get("overlays"), registry = modeler.get("elementRegistry");
    steps.slice(0, index + 1).forEach(function (s, i) {
      mark(modeler, s.element_id, i === index ? "kesu-trial-current" : "kesu-trial-path");
      mark(modeler, s.flow_id, "kesu-trial-path");
      if (s.state === "error") { mark(modeler, s.element_id, "kesu-trial-error"); }
      if (registry.get(s.element_id)) {
        overlayIds.push(overlays.add(s.element_id, "kesu-trial", { position: { top: -12, left: -12 },
          html: el("span", { "class": "kesu-step-badge" }, String(i + 1)) }));
      }
    });
    if (step && registry.get(step.element_id) && modeler.get("canvas").scrollToElement) {
      modeler.get("canvas").scrollToElement(registry.get(step.element_id));
    }
  }

  $("trial-run").addEventListener("click", run);
  $("trial-start").addEventListener("input", function () { startTouched = true; });
  $("trial-process").addEventListener("change", suggestStart);
  $("trial-prev").addEventListener("click", function () { if (position > 0) { go(position - 1); } });
  $("trial-next").addEventListener("click", function () { if (result && position < result.steps.length - 1) { go(position + 1); } });
  $("trial-open").addEventListener("click", function () {
    $("trial-body").hidden = !$("trial-body").hidden;
    if (!setup) { loadSetup().catch(function (e) { status("Could not read the draft: " + e.message, true); }); }
  });
}());

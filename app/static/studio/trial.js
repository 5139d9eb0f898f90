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
  function t(key, params) { return window.kesuText(key, params); }  // the page's words (static/js/i18n.js)
  function stateName(state) { var name = t("state." + state); return name === "state." + state ? state : name; }
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
    if ((setup.services || []).length) { services.appendChild(el("h4", {}, t("serviceOutcomes"))); }
    (setup.services || []).forEach(function (s) {
      var row = el("fieldset", { "class": "trial-service", "data-element-id": s.element_id });
      row.appendChild(el("legend", {}, (s.name || s.element_id) + " · " + s.operator));
      var kind = el("select", { name: "kind", "aria-label": t("outcomeOf", { id: s.element_id }) });
      [["result", t("outcomeResult")], ["error", t("outcomeError")], ["incident", t("outcomeIncident")]].forEach(function (o) {
        kind.appendChild(el("option", { value: o[0] }, o[1]));
      });
      var value = el("textarea", { name: "result", rows: "2", spellcheck: "false", "aria-label": t("resultOf", { id: s.element_id }) });
      value.value = JSON.stringify(s.example || {});
      var code = el("input", { name: "error", list: "trial-error-codes", placeholder: t("errorCode"), "aria-label": t("errorCodeOf", { id: s.element_id }) });
      code.hidden = true;
      kind.addEventListener("change", function () { value.hidden = kind.value !== "result"; code.hidden = kind.value !== "error"; });
      row.appendChild(kind); row.appendChild(value); row.appendChild(code);
      services.appendChild(row);
    });
    var codes = $("trial-error-codes"); codes.innerHTML = "";
    (setup.error_codes || []).forEach(function (c) { codes.appendChild(el("option", { value: c })); });
    var forms = $("trial-forms"); forms.innerHTML = "";
    if ((setup.user_tasks || []).length) { forms.appendChild(el("h4", {}, t("userTaskForms"))); }
    (setup.user_tasks || []).forEach(function (u) {
      var task = u.name || u.element_id;
      var label = el("label", {}, u.form_key ? t("withForm", { task: task, form: u.form_key }) : task);
      var area = el("textarea", { rows: "2", spellcheck: "false", "data-element-id": u.element_id, "class": "trial-form" });
      area.value = JSON.stringify(u["default"] || {});
      label.appendChild(area); forms.appendChild(label);
    });
    var timers = $("trial-timers"); timers.innerHTML = "";
    if ((setup.timers || []).length) { timers.appendChild(el("h4", {}, t("fireTimers"))); }
    (setup.timers || []).forEach(function (timer) {
      var label = el("label", { "class": "inline" }), check = el("input", { type: "checkbox", value: timer.element_id, "class": "trial-timer" });
      label.appendChild(check); label.appendChild(document.createTextNode(" " + (timer.name || timer.element_id)));
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
    $("trial-start-keys").textContent = keys.length ? t("startKeys", { names: keys.join(", ") }) : "";
    if (startTouched || setup.kind !== "process") { return; }
    var sample = {};
    var examples = setup.start_examples || {};
    keys.forEach(function (k) { sample[k] = Object.prototype.hasOwnProperty.call(examples, k) ? examples[k] : null; });
    $("trial-start").value = JSON.stringify(sample, null, 2);
  }

  function parseJSON(text, what) {
    try { return JSON.parse(text || "{}"); } catch (e) { throw new Error(t("notValidJson", { what: what, error: e.message })); }
  }

  function collect() {
    var body = { kind: setup.kind, start_data: parseJSON($("trial-start").value, t("startData")), services: {}, forms: {}, fire_timers: [] };
    if (setup.kind === "decision") { body.decision_id = $("trial-decision").value; return body; }
    body.process_id = $("trial-process").value;
    Array.prototype.forEach.call(document.querySelectorAll(".trial-service"), function (row) {
      var id = row.dataset.elementId, kind = row.querySelector("[name=kind]").value;
      if (kind === "result") { body.services[id] = { result: parseJSON(row.querySelector("[name=result]").value, t("resultOf", { id: id })) }; }
      else if (kind === "error") { body.services[id] = { error: row.querySelector("[name=error]").value }; }
      else { body.services[id] = { incident: true }; }
    });
    Array.prototype.forEach.call(document.querySelectorAll(".trial-form"), function (area) {
      body.forms[area.dataset.elementId] = parseJSON(area.value, t("formDataOf", { id: area.dataset.elementId }));
    });
    Array.prototype.forEach.call(document.querySelectorAll(".trial-timer:checked"), function (c) { body.fire_timers.push(c.value); });
    return body;
  }

  function run() {
    var body;
    try { body = collect(); } catch (e) { status(e.message, true); return; }
    status(t("savingAndRunning"));
    window.KesuStudio.save().then(function (saved) {
      if (saved === false) { status(t("fixSaveFirst"), true); return null; }
      return fetch(box.dataset.runUrl, { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body) });
    }).then(function (r) {
      if (!r) { return; }
      return r.json().then(function (answer) {
        if (!r.ok) {
          var fields = (answer.errors || []).map(function (e) { return e.field + ": " + e.message; }).join("; ");
          status((answer.detail || t("runRefused")) + (fields ? " — " + fields : ""), true);
          return;
        }
        show(answer);
      });
    }).catch(function (e) { status(t("runFailed", { error: e.message }), true); });
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
        (s.name || s.element_id) + " · " + s.type + (s.state !== "completed" ? " (" + stateName(s.state) + ")" : ""));
      li.addEventListener("click", function () { go(i); });
      list.appendChild(li);
    });
    status(t("runResult", { status: stateName(answer.status), count: answer.steps.length }) +
           (answer.waiting.length ? " · " + t("waitingOn", { names: answer.waiting.join(", ") }) : ""),
           answer.status === "error" || answer.status === "invalid");
    box.dataset.status = answer.status;
    go(answer.steps.length ? 0 : -1);
  }

  function showDecision(answer) {
    $("trial-steps-box").hidden = true; $("trial-decision-box").hidden = false;
    var body = $("trial-rows"); body.innerHTML = "";
    answer.rows.forEach(function (r) {
      var tr = el("tr", { "class": r.matched ? "matched" : "", "data-rule-id": r.rule_id });
      tr.appendChild(el("td", {}, String(r.row)));
      tr.appendChild(el("td", {}, r.description || r.rule_id));
      tr.appendChild(el("td", {}, r.matched ? t("matched") : (r.error ? t("rowError", { error: r.error }) : "—")));
      body.appendChild(tr);
    });
    $("trial-decision-result").textContent = pretty(answer.result);
    var rows = answer.rows.filter(function (r) { return r.matched; }).map(function (r) { return r.row; }).join(", ");
    status(t("matchedRows", { rows: rows, policy: answer.hit_policy }), answer.problems.length > 0);
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
    $("trial-position").textContent = steps.length ? t("position", { number: index + 1, total: steps.length }) : t("noSteps");
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
    if (!setup) { loadSetup().catch(function (e) { status(t("cannotReadDraft", { error: e.message }), true); }); }
  });
}());

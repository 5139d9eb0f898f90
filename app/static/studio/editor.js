/* Studio editor: loads a draft file into bpmn-js, dmn-js or the form editor, saves it back and
   lists the validation problems; clicking one selects and highlights its element. No inline script. */
(function () {
  "use strict";
  var root = document.getElementById("studio-editor");
  if (!root) { return; }
  var kind = root.dataset.kind, path = root.dataset.path;
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var statusEl = document.getElementById("save-status");
  var editor = null, marked = [];
  var t = window.kesuText;  // the page's words (static/js/i18n.js)

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { if (!r.ok) { throw new Error(body.detail || r.statusText); } return body; }); });
  }

  function say(text, isError) { statusEl.textContent = text; statusEl.className = isError ? "field-error" : ""; }

  function bpmnEditor(xml, extras) {
    var modeler = new window.BpmnJS({ container: "#canvas", moddleExtensions: { spiffworkflow: extras.descriptor } });
    return modeler.importXML(xml).then(function (result) {
      modeler.get("canvas").zoom("fit-viewport");
      if (window.KesuPanel) { window.KesuPanel(modeler, document.getElementById("panel"), extras); }
      return { warnings: result.warnings, modeler: modeler, save: function () { return modeler.saveXML({ format: true }).then(function (r) { return r.xml; }); },
               focus: function (id) { focusElement(modeler, id); } };
    });
  }

  function dmnEditor(xml) {
    var modeler = new window.DmnJS({ container: "#canvas", common: { keyboard: { bindTo: window } } });
    var help = document.createElement("p"), panel = document.getElementById("panel");
    help.className = "muted"; help.textContent = t("dmnHelp");
    panel.innerHTML = ""; panel.appendChild(help);
    return modeler.importXML(xml).then(function (result) {
      return { warnings: result.warnings, modeler: modeler, save: function () { return modeler.saveXML({ format: true }).then(function (r) { return r.xml; }); },
               focus: function (id) {
                 var view = modeler.getViews().filter(function (v) { return v.element.id === id; })[0];
                 if (view) { modeler.open(view); }
               } };
    });
  }

  function formEditor(text) {
    var source = document.getElementById("form-source"), preview = document.getElementById("form-preview");
    source.value = text;
    function render() {
      preview.innerHTML = "";
      var schema;
      try { schema = JSON.parse(source.value); } catch (e) { preview.textContent = t("notJson", { error: e.message }); return; }
      var props = (schema && schema.properties) || {}, required = (schema && schema.required) || [];
      if (schema.title) { var h = document.createElement("h4"); h.textContent = schema.title; preview.appendChild(h); }
      Object.keys(props).forEach(function (name) {
        var p = props[name], label = document.createElement("label"), input;
        label.textContent = (p.title || name) + (required.indexOf(name) >= 0 ? " *" : "");
        if (p["enum"]) {
          input = document.createElement("select");
          p["enum"].forEach(function (v) { var o = document.createElement("option"); o.textContent = v; input.appendChild(o); });
        } else if (p.type === "boolean") {
          input = document.createElement("input"); input.type = "checkbox";
        } else if (p.type === "string" && (p.maxLength || 0) > 200) {
          input = document.createElement("textarea");
        } else {
          input = document.createElement("input"); input.type = (p.type === "number" || p.type === "integer") ? "number" : "text";
        }
        input.name = name; label.appendChild(input); preview.appendChild(label);
      });
    }
    source.addEventListener("input", render);
    render();
    return Promise.resolve({ warnings: [], save: function () { return Promise.resolve(source.value); }, focus: function () {} });
  }

  function focusElement(modeler, id) {
    var registry = modeler.get("elementRegistry"), canvas = modeler.get("canvas"), element = registry.get(id);
    marked.forEach(function (m) { if (registry.get(m)) { canvas.removeMarker(m, "kesu-focus"); } });
    marked = [];
    if (!element) { say(t("notOnDiagram", { id: id }), true); return; }
    canvas.addMarker(id, "kesu-focus"); marked.push(id);
    modeler.get("selection").select(element);
    if (canvas.scrollToElement) { canvas.scrollToElement(element); }
  }

  function showProblems(problems) {
    var list = document.getElementById("problems");
    list.innerHTML = "";
    if (!problems.length) {
      var ok = document.createElement("li"); ok.className = "ok"; ok.textContent = t("noProblems");
      list.appendChild(ok); return;
    }
    problems.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "problem " + p.severity;
      li.dataset.elementId = p.element_id || "";
      li.textContent = p.file + (p.element_id ? " [" + p.element_id + "]" : "") + (p.line ? " " + t("line", { line: p.line }) : "") + ": " + p.message;
      if (p.element_id && p.file === path) { li.addEventListener("click", function () { editor.focus(p.element_id); }); }
      list.appendChild(li);
    });
  }

  function save() {
    say(t("saving"));
    return editor.save().then(function (content) {
      return fetch(root.dataset.fileUrl, { method: "PUT", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ path: path, content: content }) });
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { say(body.detail || t("saveFailed"), true); if (body.problems) { showProblems(body.problems); } return false; }
        say(t("saved", { count: body.problems.length }));
        showProblems(body.problems);
        return true;
      });
    }).catch(function (e) { say(t("saveFailedBecause", { error: e.message }), true); return false; });
  }

  var fileUrl = root.dataset.fileUrl + "?path=" + encodeURIComponent(path);
  Promise.all([getJSON(fileUrl), kind === "bpmn" ? getJSON(root.dataset.catalogUrl) : {},
               kind === "bpmn" ? getJSON(root.dataset.descriptorUrl) : {}])
    .then(function (loaded) {
      var file = loaded[0], extras = { catalog: loaded[1], descriptor: loaded[2], forms: file.forms || [] };
      var make = { bpmn: bpmnEditor, dmn: dmnEditor, form: formEditor }[kind];
      return make(file.content, extras).then(function (made) {
        editor = made;
        showProblems(file.problems);
        var hash = decodeURIComponent(window.location.hash.slice(1));
        if (hash) { editor.focus(hash); }
        root.dataset.ready = "true";
        window.KesuStudio = { kind: kind, modeler: made.modeler || null, save: save };
        document.dispatchEvent(new CustomEvent("kesu:editor-ready"));
      });
    })
    .catch(function (e) { say(t("cannotOpen", { error: e.message }), true); root.dataset.ready = "error"; });
  document.getElementById("save").addEventListener("click", save);
}());

/* Kesu side panel for bpmn-js: what Kesu executes on the selected element, written into its
   spiffworkflow: extension elements (and BPMN timers/conditions) through the modeler's moddle. */
(function () {
  "use strict";
  var ISO = /^(R\d*\/)?(P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?|\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})?)$/;

  function t(key, params) { return window.kesuText(key, params); }  // the page's words (static/js/i18n.js)

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function field(panel, label, input, hint) {
    var wrap = el("label", {}, label);
    wrap.appendChild(input);
    if (hint !== undefined) { wrap.appendChild(el("span", { "class": "hint" }, hint)); }  // "" keeps a place for live hints
    panel.appendChild(wrap);
    return wrap;
  }

  function select(name, options, value, empty) {
    var s = el("select", { name: name });
    s.appendChild(el("option", { value: "" }, empty || "—"));
    options.forEach(function (o) { var opt = el("option", { value: o }, o); if (o === value) { opt.selected = true; } s.appendChild(opt); });
    if (value && options.indexOf(value) < 0) { var extra = el("option", { value: value }, t("unknownOption", { value: value })); extra.selected = true; s.appendChild(extra); }
    return s;
  }

  function input(name, value, placeholder) { return el("input", { name: name, value: value || "", placeholder: placeholder || "" }); }

  window.KesuPanel = function (modeler, panel, extras) {
    var moddle = modeler.get("moddle"), modeling = modeler.get("modeling");
    var operators = (extras.catalog && extras.catalog.operators) || [], groups = (extras.catalog && extras.catalog.groups) || [];

    function extension(bo, type) {
      var values = (bo.extensionElements && bo.extensionElements.values) || [];
      return values.filter(function (v) { return v.$type === type; })[0];
    }

    function setExtension(element, type, value) {
      var bo = element.businessObject, ext = bo.extensionElements || moddle.create("bpmn:ExtensionElements", { values: [] });
      var values = (ext.values || []).filter(function (v) { return v.$type !== type; });
      if (value) { value.$parent = ext; values.push(value); }
      ext.values = values;
      modeling.updateProperties(element, { extensionElements: ext });
    }

    function properties(bo) {
      var props = {}, holder = extension(bo, "spiffworkflow:properties");
      ((holder && holder.properties) || []).forEach(function (p) { props[p.name] = p.value; });
      return props;
    }

    function setProperty(element, name, value) {
      var props = properties(element.businessObject);
      if (value) { props[name] = value; } else { delete props[name]; }
      var list = Object.keys(props).map(function (k) { return moddle.create("spiffworkflow:property", { name: k, value: props[k] }); });
      setExtension(element, "spiffworkflow:properties", list.length ? moddle.create("spiffworkflow:properties", { properties: list }) : null);
    }

    function serviceTask(element) {
      var current = extension(element.businessObject, "spiffworkflow:serviceTaskOperator");
      var chosen = current ? current.id : "", values = {};
      ((current && current.parameterList && current.parameterList.parameters) || []).forEach(function (p) { values[p.id] = p.value; });
      var op = select("operator", operators.map(function (o) { return o.name; }), chosen, t("chooseOperator"));
      field(panel, t("serviceOperator"), op);
      var result = input("resultVariable", current ? current.resultVariable : "", t("resultVariablePlaceholder"));
      field(panel, t("resultVariable"), result);
      var params = el("div", { "class": "params" });
      panel.appendChild(params);
      function write() {
        if (!op.value) { setExtension(element, "spiffworkflow:serviceTaskOperator", null); return; }
        var list = Array.prototype.map.call(params.querySelectorAll("input"), function (i) {
          return moddle.create("spiffworkflow:parameter", { id: i.name, type: "any", value: i.value });
        });
        var value = moddle.create("spiffworkflow:serviceTaskOperator", { id: op.value, resultVariable: result.value || undefined,
          parameterList: moddle.create("spiffworkflow:parameters", { parameters: list }) });
        setExtension(element, "spiffworkflow:serviceTaskOperator", value);
      }
      function showParams() {
        params.innerHTML = "";
        var spec = operators.filter(function (o) { return o.name === op.value; })[0];
        if (spec && spec.description) { params.appendChild(el("p", { "class": "muted" }, spec.description)); }
        ((spec && spec.parameters) || []).forEach(function (name) {
          var i = input(name, values[name], t("parameterPlaceholder"));
          i.addEventListener("change", function () { values[name] = i.value; write(); });
          field(params, t("parameter", { name: name }), i);
        });
      }
      op.addEventListener("change", function () { showParams(); write(); });
      result.addEventListener("change", write);
      showParams();
    }

    function userTask(element) {
      var props = properties(element.businessObject);
      var form = select("formKey", extras.forms || [], props.formKey, t("noForm"));
      form.addEventListener("change", function () { setProperty(element, "formKey", form.value); });
      field(panel, t("form"), form);
      var group = select("candidateGroups", groups, props.candidateGroups, t("noGroup"));
      group.addEventListener("change", function () { setProperty(element, "candidateGroups", group.value); });
      field(panel, t("candidateGroup"), group);
      var expr = input("candidateGroupsExpression", props.candidateGroupsExpression, t("groupExpressionPlaceholder"));
      expr.addEventListener("change", function () { setProperty(element, "candidateGroupsExpression", expr.value); });
      field(panel, t("candidateGroupExpression"), expr);
    }

    function timer(element, definition) {
      var body = definition.timeDuration ? definition.timeDuration.body : "";
      var duration = input("timeDuration", body, t("timerPlaceholder"));
      var wrap = field(panel, t("timerDuration"), duration, "");
      function check() {
        var v = duration.value.trim(), literal = /^".*"$/.test(v) ? v.slice(1, -1) : null;
        wrap.querySelector(".hint").textContent = literal !== null && !ISO.test(literal) ? t("notIso") : "";
      }
      duration.addEventListener("input", check);
      duration.addEventListener("change", function () {
        modeling.updateModdleProperties(element, definition, { timeDuration: moddle.create("bpmn:FormalExpression", { body: duration.value }) });
      });
      check();
    }

    function flow(element) {
      var bo = element.businessObject, source = bo.sourceRef;
      if (!source || !/Gateway$/.test(source.$type)) { return; }
      var c = input("condition", bo.conditionExpression ? bo.conditionExpression.body : "", t("conditionPlaceholder"));
      c.addEventListener("change", function () {
        modeling.updateProperties(element, { conditionExpression: c.value ? moddle.create("bpmn:FormalExpression", { body: c.value }) : undefined });
      });
      field(panel, t("condition"), c);
      var isDefault = el("input", { type: "checkbox", name: "default" });
      isDefault.checked = source["default"] === bo;
      isDefault.addEventListener("change", function () {
        modeling.updateProperties(modeler.get("elementRegistry").get(source.id), { "default": isDefault.checked ? bo : undefined });
      });
      field(panel, t("defaultFlow"), isDefault);
    }

    function show(element) {
      panel.innerHTML = "";
      if (!element || element.type === "bpmn:Process" || element.type === "bpmn:Collaboration") {
        panel.appendChild(el("p", { "class": "muted" }, t("selectElement"))); return;
      }
      var bo = element.businessObject;
      panel.appendChild(el("h3", {}, (bo.name || bo.id)));
      panel.appendChild(el("p", { "class": "muted" }, element.type.replace("bpmn:", "") + " · " + bo.id));
      if (element.type === "bpmn:ServiceTask") { serviceTask(element); }
      if (element.type === "bpmn:UserTask") { userTask(element); }
      if (element.type === "bpmn:SequenceFlow") { flow(element); }
      (bo.eventDefinitions || []).forEach(function (d) { if (d.$type === "bpmn:TimerEventDefinition") { timer(element, d); } });
    }

    modeler.get("eventBus").on("selection.changed", function (e) { show(e.newSelection.length === 1 ? e.newSelection[0] : null); });
  };
}());

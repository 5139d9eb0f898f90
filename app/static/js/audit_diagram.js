/* Audit: the pinned diagram at step N. Loads the BPMN file and the steps (JSON), colours the
   elements completed up to the step, marks the current tokens and shows the data at that step.
   No inline script (CSP). */
(function () {
  "use strict";
  var root = document.getElementById("audit-diagram");
  if (!root) { return; }
  var slider = document.getElementById("step-slider");
  var viewer = new window.BpmnJS({ container: "#canvas" });
  var steps = [], marked = [];

  function fetchText(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status + " " + r.statusText); }
      return r.text();
    });
  }

  function mark(ids, cls) {
    var registry = viewer.get("elementRegistry"), canvas = viewer.get("canvas");
    ids.forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, cls); marked.push([id, cls]); }
    });
  }

  function doneFlows(done) {
    var set = {};
    done.forEach(function (id) { set[id] = true; });
    return viewer.get("elementRegistry").filter(function (el) {
      return el.type === "bpmn:SequenceFlow" && el.source && el.target && set[el.source.id] && set[el.target.id];
    }).map(function (el) { return el.id; });
  }

  function show(n) {
    var step = steps[n - 1];
    if (!step) { return; }
    var canvas = viewer.get("canvas");
    marked.forEach(function (m) { canvas.removeMarker(m[0], m[1]); });
    marked = [];
    mark(step.completed, "step-done");
    mark(doneFlows(step.completed), "step-done");
    mark(step.current, "step-current");
    slider.value = String(n);
    root.dataset.step = String(n);
    root.dataset.current = step.current.join(" ");
    root.dataset.completed = step.completed.join(" ");
    document.getElementById("step-number").textContent = n + " / " + steps.length;
    document.getElementById("step-event").textContent = "#" + step.seq + " " + step.event_type +
      (step.title ? " · " + step.title : "") + " · " + (step.actor || window.kesuText("system")) + " · " + step.occurred_at.slice(0, 19).replace("T", " ");
    document.getElementById("step-data").textContent = JSON.stringify(step.data, null, 2);
  }

  function go(delta) { show(Math.min(steps.length, Math.max(1, Number(slider.value) + delta))); }

  slider.addEventListener("input", function () { show(Number(slider.value)); });
  document.getElementById("step-first").addEventListener("click", function () { show(1); });
  document.getElementById("step-prev").addEventListener("click", function () { go(-1); });
  document.getElementById("step-next").addEventListener("click", function () { go(1); });
  document.getElementById("step-last").addEventListener("click", function () { show(steps.length); });

  Promise.all([fetchText(root.dataset.xmlUrl), fetchText(root.dataset.stepsUrl)]).then(function (loaded) {
    steps = JSON.parse(loaded[1]).steps;
    return viewer.importXML(loaded[0]).then(function () {
      viewer.get("canvas").zoom("fit-viewport");
      slider.max = String(steps.length);
      show(steps.length);
      root.dataset.ready = "1";
    });
  }).catch(function (err) {
    var box = document.getElementById("diagram-error");
    box.textContent = window.kesuText("cannotShow", { error: err.message });
    box.hidden = false;
  });
}());

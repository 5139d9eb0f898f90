/* Studio diff: both sides of each changed BPMN file drawn read-only, elements coloured by change
   (removed red on the old diagram, added green and changed amber on the new one). No inline script. */
(function () {
  "use strict";
  var root = document.getElementById("studio-diff");
  if (!root || !window.BpmnJS) { return; }
  fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (diff) {
      var byPath = {};
      diff.files.forEach(function (f) { byPath[f.path] = f; });
      var pending = [];
      Array.prototype.forEach.call(root.querySelectorAll(".diff-file[data-kind=bpmn][data-status=changed]"), function (section) {
        var file = byPath[section.dataset.path];
        [["old", diff.old_files, ["removed", "changed"]], ["new", diff.new_files, ["added", "changed"]]].forEach(function (side) {
          var container = section.querySelector(".diff-canvas[data-side=" + side[0] + "]");
          var viewer = new window.BpmnJS({ container: container });
          pending.push(viewer.importXML(side[1][file.path]).then(function () {
            var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
            canvas.zoom("fit-viewport");
            file.changes.forEach(function (c) {
              if (side[2].indexOf(c.kind) >= 0 && registry.get(c.element_id)) { canvas.addMarker(c.element_id, "kesu-diff-" + c.kind); }
            });
          }).catch(function (e) { container.textContent = window.kesuText("cannotDraw", { error: e.message }); }));
        });
      });
      return Promise.all(pending);
    })
    .then(function () { root.dataset.ready = "true"; })
    .catch(function () { root.dataset.ready = "error"; });
}());

/* The page's own words for its scripts, translated on the server: the template writes them as JSON in
   <script type="application/json" id="page-strings"> (not executed, so the CSP allows it), and
   kesuText("key", {name: value}) returns one with its {name} placeholders filled. A missing key
   returns the key itself, so a forgotten string shows up instead of failing. */
(function () {
  "use strict";
  var node = document.getElementById("page-strings"), strings = {};
  try { strings = node ? JSON.parse(node.textContent) : {}; } catch (e) { strings = {}; }
  window.kesuText = function (key, params) {
    var text = Object.prototype.hasOwnProperty.call(strings, key) ? String(strings[key]) : key;
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : all;
    });
  };
}());

// The task page (tasks/show.html), progressively enhanced; without JavaScript every control still
// works by plain form posts and reloads.
//  * "Use template" fetches the template filled in for this task (GET /tasks/<id>/reply-template)
//    and inserts it into the reply at the cursor (or fills an empty reply) without a reload, so
//    what the agent typed and the chosen outcome stay.
//  * A draft of the task form is kept in localStorage under the form's data-draft-key while the
//    agent types, restored when they come back to an empty form, and cleared when they submit
//    (a refused submission comes back with the posted values filled in by the server).
(function () {
  "use strict";

  var DRAFT_DAYS = 7;

  function replyField() {
    return document.getElementById("f-reply");
  }

  function insertIntoReply(field, text) {
    var value = field.value;
    if (!value.trim()) {
      field.value = text;
      field.setSelectionRange(text.length, text.length);
    } else {
      // Where the agent's cursor was; a reply never focused gets the template at its end.
      var touched = field.dataset.touched === "1";
      var start = touched ? field.selectionStart : value.length;
      var end = touched ? field.selectionEnd : value.length;
      var before = value.slice(0, start);
      var after = value.slice(end);
      var lead = before && !/\s$/.test(before) ? "\n" : "";
      var tail = after && !/^\s/.test(after) ? "\n" : "";
      field.value = before + lead + text + tail + after;
      var caret = (before + lead + text).length;
      field.setSelectionRange(caret, caret);
    }
    field.focus();
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function setupTemplates() {
    var form = document.getElementById("template-form");
    var field = replyField();
    if (!form || !field || !window.fetch) {
      return;
    }
    var status = document.getElementById("template-status");
    ["focus", "keyup", "mouseup", "select"].forEach(function (name) {
      field.addEventListener(name, function () { field.dataset.touched = "1"; });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var choice = form.querySelector("select[name=template]");
      var url = form.dataset.url + "?template=" + encodeURIComponent(choice.value);
      status.textContent = "";
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (type.indexOf("json") === -1) {  // sent to the sign-in page: the session has ended
            return { ok: false, body: { detail: "Please sign in again, then choose the template. 请重新登录" } };
          }
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (answer) {
          if (!answer.ok) {
            status.textContent = answer.body.detail || answer.body.title || "The template could not be loaded.";
            return;
          }
          insertIntoReply(field, answer.body.text);
          status.textContent = "Inserted 已插入: " + answer.body.name;
        })
        .catch(function () {
          status.textContent = "The template could not be loaded; check the connection and try again. 模板加载失败";
        });
    });
  }

  function storage() {
    try {
      return window.localStorage;
    } catch (error) {
      return null;  // storage switched off: no drafts, everything else works
    }
  }

  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (element) {
      return element.name && element.name !== "csrf_token" && element.type !== "submit";
    });
  }

  function fieldValue(element) {
    return element.type === "checkbox" ? (element.checked ? "on" : "") : element.value;
  }

  function setupDraft() {
    var form = document.getElementById("task-form");
    var store = storage();
    if (!form || !store || !form.dataset.draftKey) {
      return;
    }
    var key = form.dataset.draftKey;
    var fields = draftFields(form);
    var empty = fields.every(function (element) { return !fieldValue(element); });
    var saved = null;
    try {
      saved = JSON.parse(store.getItem(key) || "null");
    } catch (error) {
      store.removeItem(key);
    }
    if (saved && Date.now() - saved.saved_at > DRAFT_DAYS * 86400000) {
      store.removeItem(key);
      saved = null;
    }
    if (saved && empty) {  // the server's values (a refused submission) win over a draft
      fields.forEach(function (element) {
        var value = saved.values[element.name];
        if (value === undefined) {
          return;
        }
        if (element.type === "checkbox") {
          element.checked = value === "on";
        } else {
          element.value = value;
        }
      });
      var note = document.createElement("p");
      note.id = "draft-restored";
      note.className = "flash";
      note.textContent = "Your unsent draft was restored. 已恢复未提交的草稿 ";
      var discard = document.createElement("button");
      discard.type = "button";
      discard.id = "discard-draft";
      discard.textContent = "Discard draft 丢弃草稿";
      discard.addEventListener("click", function () {
        store.removeItem(key);
        fields.forEach(function (element) {
          if (element.type === "checkbox") {
            element.checked = false;
          } else {
            element.value = "";
          }
        });
        note.remove();
      });
      note.appendChild(discard);
      form.insertBefore(note, form.firstChild);
    }
    function save() {
      var values = {};
      fields.forEach(function (element) { values[element.name] = fieldValue(element); });
      try {
        store.setItem(key, JSON.stringify({ saved_at: Date.now(), values: values }));
      } catch (error) {
        // storage full or refused: the form itself still works
      }
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", function () { store.removeItem(key); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupTemplates();
    setupDraft();
  });
})();

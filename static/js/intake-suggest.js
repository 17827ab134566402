/* Suggested categories while a filing form is typed into (citizen: /requests/new, clerk:
   /intake/new). Progressive enhancement of templates/smart_intake/_suggest.html: without
   this script the section stays hidden and the form works as before.

   After a pause in the title or description (300 ms) it asks
   POST /api/v1/intake/suggestions (JSON, the session's CSRF token in X-CSRFToken) and
   lists up to three suggestions as buttons. One click takes a suggestion: the category
   select is set and told it changed (so category-questions.js fetches its questions);
   the list's token and the rank taken go back with the form. Urgency words raise a flag;
   on the clerk's form a button offers the suggested priority. Nothing is applied without
   a click. Text from the response is set with textContent, never as HTML. */
(function () {
  "use strict";
  var box = document.getElementById("intake-suggest");
  if (!box || !window.fetch || !window.JSON) { return; }
  var form = box.closest("form");
  if (!form) { return; }
  var title = form.querySelector("[name=title]");
  var description = form.querySelector("[name=description]");
  var category = form.querySelector("select[name=category]");
  var district = form.querySelector("select[name=district]");
  var priority = form.querySelector("select[name=priority]");
  var csrf = form.querySelector("input[name=csrf_token]");
  var tokenField = form.querySelector("[data-suggest-token]");
  var rankField = form.querySelector("[data-suggest-rank]");
  if (!title || !category || !csrf || !tokenField || !rankField) { return; }

  var endpoint = box.getAttribute("data-suggest-url");
  var surface = box.getAttribute("data-surface");
  var list = box.querySelector("[data-suggest-list]");
  var none = box.querySelector("[data-suggest-none]");
  var status = box.querySelector("[data-suggest-status]");
  var urgent = box.querySelector("[data-suggest-urgent]");
  var urgentText = box.querySelector("[data-suggest-urgent-text]");
  var priorityLine = box.querySelector("[data-suggest-priority]");
  function text(name) { return box.getAttribute("data-text-" + name) || ""; }

  var timer = null;
  var asked = null;
  var current = [];
  box.hidden = false;

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function hasOption(value) {
    for (var i = 0; i < category.options.length; i++) {
      if (category.options[i].value === String(value)) { return true; }
    }
    return false;
  }

  function markTaken() {
    var chosen = category.value;
    var rank = "";
    current.forEach(function (s, i) {
      if (String(s.category_id) === chosen) { rank = String(i + 1); }
    });
    if (rankField.value && rankField.value !== rank) { rankField.value = rank; }
    Array.prototype.forEach.call(list.querySelectorAll("button"), function (button) {
      button.setAttribute("aria-pressed",
        button.getAttribute("data-category") === chosen && rankField.value ? "true" : "false");
    });
  }

  function take(suggestion, rank) {
    if (!hasOption(suggestion.category_id)) { return; }
    category.value = String(suggestion.category_id);
    rankField.value = String(rank);
    category.dispatchEvent(new Event("change", { bubbles: true }));
    markTaken();
    status.textContent = text("taken") + " " + suggestion.category;
  }

  function renderUrgency(data) {
    urgent.hidden = !data.urgent;
    if (!data.urgent) { return; }
    urgentText.textContent = text("urgent") + " " + (data.words || []).join("、");
    clear(priorityLine);
    priorityLine.hidden = !data.priority;
    if (!data.priority) { return; }
    priorityLine.appendChild(document.createTextNode(
      text("priority") + " " + (data.priority_label || data.priority) + " "));
    if (priority && priority.value !== data.priority) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button--secondary";
      button.textContent = text("set-priority") + ": " + (data.priority_label || data.priority);
      button.addEventListener("click", function () {
        priority.value = data.priority;
        priority.dispatchEvent(new Event("change", { bubbles: true }));
        button.remove();
        status.textContent = text("priority-set");
      });
      priorityLine.appendChild(button);
    }
  }

  function render(data) {
    current = data.suggestions || [];
    if (data.token) { tokenField.value = data.token; }
    clear(list);
    current.forEach(function (s, i) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button--secondary";
      button.setAttribute("data-category", String(s.category_id));
      button.setAttribute("aria-pressed", "false");
      button.disabled = !hasOption(s.category_id);
      var percent = Math.round((s.score || 0) * 100);
      button.textContent = s.category + (s.department ? " · " + s.department : "") +
        " · " + percent + "% " + text("confidence");
      button.title = text("take");
      button.addEventListener("click", function () { take(s, i + 1); });
      item.appendChild(button);
      list.appendChild(item);
    });
    none.textContent = text("none");
    none.hidden = current.length > 0;
    renderUrgency(data);
    markTaken();
  }

  function ask() {
    var words = (title.value + "\n" + (description ? description.value : "")).trim();
    var key = words + "|" + (district ? district.value : "");
    if (key === asked) { return; }
    asked = key;
    if (words.length < 2) { clear(list); none.hidden = true; urgent.hidden = true; return; }
    var body = { title: title.value, description: description ? description.value : "" };
    if (district && district.value) { body.district_id = district.value; }
    if (tokenField.value) { body.token = tokenField.value; }
    if (surface === "clerk") { body.surface = "clerk"; }
    fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": csrf.value
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data && key === asked) { render(data); }
    }).catch(function () { /* the form works without suggestions */ });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 300);
  }

  [title, description].forEach(function (input) {
    if (input) { input.addEventListener("input", later); }
  });
  if (district) { district.addEventListener("change", later); }
  category.addEventListener("change", markTaken);
  if (title.value || (description && description.value)) { later(); }
}());

/* Answers that may help, while a citizen types the title of a new request.
   Progressive enhancement of templates/knowledge/_filing_suggestions.html: without this
   script the question box there asks the server. The list is built with textContent
   (never HTML from the response). */
(function () {
  "use strict";
  var box = document.getElementById("kb-suggestions");
  if (!box || !window.fetch) { return; }
  var list = box.querySelector("[data-kb-list]");
  var none = box.querySelector("[data-kb-none]");
  var endpoint = box.getAttribute("data-suggest-url");
  var inputs = [document.getElementById("title"), document.getElementById("kb-question")];
  var timer = null;
  var last = null;

  function render(results, asked) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    results.forEach(function (result) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = result.url;
      link.textContent = result.title;
      item.appendChild(link);
      list.appendChild(item);
    });
    if (none) { none.hidden = !asked || results.length > 0; }
  }

  function look(text) {
    var asked = text.replace(/\s+/g, " ").trim();
    if (asked === last) { return; }
    last = asked;
    if (asked.length < 2) { render([], ""); return; }
    fetch(endpoint + "?q=" + encodeURIComponent(asked), {
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data && asked === last) { render(data.results || [], asked); }
    }).catch(function () { /* the question box still works without us */ });
  }

  inputs.forEach(function (input) {
    if (!input) { return; }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { look(input.value); }, 400);
    });
  });
}());

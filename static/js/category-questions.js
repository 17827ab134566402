/* The chosen category's extra questions on the filing forms (citizen and clerk intake).
   Progressive enhancement of templates/cases/_questions.html: without this script a
   changed category comes back from the server with its questions and a notice. With it,
   the block is swapped when the category changes: the page itself is read with
   ?category=<id> (same origin, our own markup) and its #category-questions block moved in
   as DOM nodes, parsed inertly by DOMParser (its scripts never run). */
(function () {
  "use strict";
  var box = document.getElementById("category-questions");
  if (!box || !window.fetch || !window.DOMParser) { return; }
  var form = box.closest("form");
  var select = form && form.querySelector("select[name=category]");
  if (!select) { return; }
  var url = box.getAttribute("data-questions-url");
  var asked = 0;

  select.addEventListener("change", function () {
    var mine = ++asked;
    var target = url + (url.indexOf("?") < 0 ? "?" : "&") + "category=" +
      encodeURIComponent(select.value);
    fetch(target, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || mine !== asked) { return; }
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("category-questions");
        if (!fresh) { return; }
        while (box.firstChild) { box.removeChild(box.firstChild); }
        while (fresh.firstChild) { box.appendChild(document.adoptNode(fresh.firstChild)); }
      })
      .catch(function () { /* the server asks for the questions when the form is sent */ });
  });
}());

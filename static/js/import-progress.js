// The import's page: poll its progress (JSON) and update the bar and counts; once the
// import has finished, reload the page so the final state and any bad rows show.
(function () {
  "use strict";
  var state = document.getElementById("import-state");
  if (!state || state.getAttribute("data-finished") === "true") {
    return;
  }
  var url = state.getAttribute("data-progress-url");
  var bar = document.getElementById("import-progress");
  var fields = ["total_rows", "processed_rows", "created_rows", "skipped_rows", "error_count"];

  function show(data) {
    fields.forEach(function (name) {
      var cell = state.querySelector('[data-field="' + name + '"]');
      if (cell) {
        cell.textContent = String(data[name]);
      }
    });
    var label = state.getAttribute("data-label-" + data.status);
    var status = state.querySelector('[data-field="status"]');
    if (status && label) {
      status.textContent = label;
    }
    if (bar) {
      bar.max = Math.max(data.total_rows, 1);
      bar.value = data.total_rows ? data.processed_rows : 0;
      bar.textContent = data.processed_rows + " / " + data.total_rows;
    }
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 1000);
}());

// Oversight's own small script: progressive enhancement only; every page works without it.
(function () {
  "use strict";
  // Ask before destructive actions (buttons with data-confirm).
  document.addEventListener("submit", function (event) {
    var button = event.submitter || event.target.querySelector("[data-confirm]");
    var message = button && button.getAttribute && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();

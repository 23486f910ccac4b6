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

(function () {
  "use strict";
  // A live region (data-refresh="SECONDS") reloads its own content from the same page.
  var live = document.querySelector("[data-refresh]");
  if (live && window.fetch && window.DOMParser) {
    var seconds = parseInt(live.getAttribute("data-refresh"), 10) || 30;
    window.setInterval(function () {
      if (document.hidden) { return; }
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(live.id);
          if (fresh) { live.innerHTML = fresh.innerHTML; }
        })
        .catch(function () {});
    }, seconds * 1000);
  }
  // Print buttons (data-print).
  document.addEventListener("click", function (event) {
    if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-print")) {
      window.print();
    }
  });
})();

(function () {
  "use strict";
  // Forms with data-draft="KEY" keep what is typed in this browser until it is saved: a phone
  // that loses its connection in a service hall loses nothing. The draft of the form submitted
  // last is dropped once the server confirms it (?done=… on the page that follows).
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  if (!store) { return; }
  var saved = null;
  try { saved = window.sessionStorage.getItem("draft-submitted"); } catch (e) {}
  if (saved && /[?&]done=/.test(window.location.search)) {
    store.removeItem(saved);
    try { window.sessionStorage.removeItem("draft-submitted"); } catch (e) {}
  }
  var forms = document.querySelectorAll("form[data-draft]");
  Array.prototype.forEach.call(forms, function (form) {
    var key = "draft:" + form.getAttribute("data-draft");
    var fields = form.querySelectorAll("textarea, input[type=text], input:not([type]), select, input[type=radio]");
    var draft = null;
    try { draft = JSON.parse(store.getItem(key) || "null"); } catch (e) {}
    if (draft) {
      Array.prototype.forEach.call(fields, function (f) {
        if (!(f.name in draft)) { return; }
        if (f.type === "radio") { f.checked = f.value === draft[f.name]; } else if (!f.value) { f.value = draft[f.name]; }
      });
      var details = form.closest && form.closest("details");
      if (details) { details.open = true; }
    }
    form.addEventListener("input", function () {
      var values = {};
      Array.prototype.forEach.call(fields, function (f) {
        if (f.type === "radio") { if (f.checked) { values[f.name] = f.value; } } else { values[f.name] = f.value; }
      });
      store.setItem(key, JSON.stringify(values));
    });
    form.addEventListener("submit", function () {
      try { window.sessionStorage.setItem("draft-submitted", key); } catch (e) {}
    });
  });
})();

(function () {
  "use strict";
  // A character counter beside a text field with a limit (data-counter="the counter's id"):
  // the citizen sees how much room is left instead of being cut off silently.
  var fields = document.querySelectorAll("[data-counter]");
  Array.prototype.forEach.call(fields, function (field) {
    var out = document.getElementById(field.getAttribute("data-counter"));
    var max = parseInt(field.getAttribute("maxlength"), 10);
    if (!out || !max) { return; }
    var show = function () {
      var n = field.value.length;
      out.textContent = "已输入 " + n + " / " + max + " 字" + (n >= max ? "，已达上限" : "");
      out.className = n >= max ? "counter full" : "muted counter";
    };
    field.addEventListener("input", show);
    show();
  });
})();

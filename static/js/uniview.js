// Behaviour that templates ask for with data attributes, because the Content-Security-Policy
// (uniview/security.py) forbids inline event handlers:
//   <select data-autosubmit>  submits its form when changed;
//   <form data-confirm="Remove it?">  asks in the product's own dialog before submitting;
//   <form hx-post=… hx-confirm="Dismiss …?" data-reason>  asks in the product's own dialog
//     (templates/_confirm_dialog.html) instead of the browser's; with data-reason, the dialog's
//     optional reason is copied into the form's `reason` field before the request is sent;
//     selects marked data-describe="Organization" are named in the question;
//   <div data-live hx-trigger="every 30s" …>  a part that refreshes itself: skipped while a dialog
//     is open, and the alert groups the user opened stay open.
// The browser's own confirm() and prompt() are never used.
document.addEventListener("change", function (event) {
  var field = event.target.closest("[data-autosubmit]");
  if (field && field.form) { field.form.requestSubmit(); }
});

(function () {
  function describe(form) {
    if (!form) { return ""; }
    var parts = [];
    form.querySelectorAll("select[data-describe]").forEach(function (select) {
      var option = select.options[select.selectedIndex];
      parts.push(select.dataset.describe + ": " + (option ? option.text : ""));
    });
    return parts.join(" · ");
  }

  // The product's confirmation: `then(reason)` runs when the person confirms.
  function ask(question, elt, then) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog) { return false; }
    var form = elt.closest("form");
    var wantsReason = elt.hasAttribute("data-reason");
    var reasonLabel = dialog.querySelector(".confirm-reason");
    var reason = reasonLabel.querySelector("input");
    var detail = dialog.querySelector(".confirm-detail");
    var ok = dialog.querySelector("button[value=confirm]");
    dialog.querySelector(".confirm-question").textContent = question;
    detail.textContent = describe(form);
    detail.hidden = !detail.textContent;
    reasonLabel.hidden = !wantsReason;
    reason.value = "";
    ok.textContent = elt.dataset.confirmLabel || "Confirm";
    dialog.returnValue = "";
    dialog.addEventListener("close", function answered() {
      dialog.removeEventListener("close", answered);
      if (dialog.returnValue !== "confirm") { return; }
      var field = form && form.querySelector("input[name=reason]");
      if (wantsReason && field) { field.value = reason.value.trim(); }
      then();
    });
    dialog.showModal();
    (wantsReason ? reason : ok).focus();
    return true;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (!form || form.dataset.confirmed === "yes") { return; }
    if (ask(form.dataset.confirm, form, function () { form.dataset.confirmed = "yes"; form.requestSubmit(); })) {
      event.preventDefault();
    }
  }, true);

  document.addEventListener("htmx:confirm", function (event) {
    var question = event.detail.question;
    if (!question) { return; }  // no hx-confirm: the request goes at once
    if (ask(question, event.detail.elt, function () { event.detail.issueRequest(true); })) {
      event.preventDefault();
    }
  });
})();

// Parts that refresh themselves, and actions that show they are under way.
(function () {
  var reopen = [];
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.hasAttribute("data-live") && document.querySelector("dialog[open]")) {
      event.preventDefault();  // not while the person answers a question about what is shown
      return;
    }
    if (elt.matches("form")) {
      elt.setAttribute("aria-busy", "true");
      elt.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.matches && elt.matches("form")) {
      elt.removeAttribute("aria-busy");
      elt.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.id !== "alert-groups-area") { return; }
    reopen = Array.prototype.map.call(event.detail.target.querySelectorAll("[data-group]:has(> details[open])"),
      function (group) { return group.dataset.group; });
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target.id !== "alert-groups-area") { return; }
    reopen.forEach(function (key) {
      var group = Array.prototype.find.call(document.querySelectorAll("[data-group]"), function (g) {
        return g.dataset.group === key;
      });
      var details = group && group.querySelector("details");
      if (details) { details.open = true; }  // its rows load again, fresh
    });
    reopen = [];
  });
})();

// The menu button on a narrow screen, and Escape: it closes an open menu (the settings menu, the
// superuser's "Dismiss…", the collapsed navigation) and gives the focus back to what opened it.
// Dialogs close on Escape by themselves (<dialog>).
(function () {
  function toggleNav(button, open) {
    var bar = button.closest(".topbar");
    bar.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".nav-toggle");
    if (button) { toggleNav(button, button.getAttribute("aria-expanded") !== "true"); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || document.querySelector("dialog[open]")) { return; }
    document.querySelectorAll("details.menu[open], details.dismiss-menu[open]").forEach(function (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    });
    var button = document.querySelector(".nav-toggle[aria-expanded=true]");
    if (button) { toggleNav(button, false); button.focus(); }
  });
})();

// <input data-search-options="select-id">: typing narrows the select's options to those containing
// the words typed, and selects the first match, so a long list of organizations or groups is searchable.
document.addEventListener("input", function (event) {
  var input = event.target.closest("[data-search-options]");
  if (!input) { return; }
  var select = document.getElementById(input.dataset.searchOptions);
  var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
  var first = null;
  Array.prototype.forEach.call(select.options, function (option) {
    var text = option.text.toLowerCase();
    var match = !option.value || words.every(function (w) { return text.indexOf(w) >= 0; });
    option.hidden = !match;
    if (match && option.value && !first) { first = option; }
  });
  if (words.length && first) { select.value = first.value; }
});

// The browser's time zone, for the server to show dates in when the person chose none
// (tenancy/timezones.py): kept in the `tz` cookie, refreshed when the browser's zone changes.
(function () {
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  var current = (document.cookie.match(/(?:^|; )tz=([^;]*)/) || [])[1];
  if (zone && decodeURIComponent(current || "") !== zone) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";  // letters, digits, _ + - /
  }
})();

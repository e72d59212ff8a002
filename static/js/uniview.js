// Behaviour that templates ask for with data attributes, because the Content-Security-Policy
// (uniview/security.py) forbids inline event handlers:
//   <select data-autosubmit>  submits its form when changed;
//   <form data-confirm="Remove it?">  asks before submitting;
//   <form hx-post=… hx-confirm="Dismiss …?" data-reason>  asks in the product's own dialog
//     (templates/_confirm_dialog.html) instead of the browser's; with data-reason, the dialog's
//     optional reason is copied into the form's `reason` field before the request is sent;
//     selects marked data-describe="Organization" are named in the question.
document.addEventListener("change", function (event) {
  var field = event.target.closest("[data-autosubmit]");
  if (field && field.form) { field.form.requestSubmit(); }
});
document.addEventListener("submit", function (event) {
  var form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
}, true);

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

  document.addEventListener("htmx:confirm", function (event) {
    var dialog = document.getElementById("confirm-dialog");
    var question = event.detail.question;
    if (!question || !dialog) { return; }  // no hx-confirm: the request goes at once
    event.preventDefault();
    var elt = event.detail.elt;
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
      event.detail.issueRequest(true);
    });
    dialog.showModal();
    (wantsReason ? reason : ok).focus();
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

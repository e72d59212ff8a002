// Behaviour that templates ask for with data attributes, because the Content-Security-Policy
// (uniview/security.py) forbids inline event handlers:
//   <select data-autosubmit>  submits its form when changed;
//   <form data-confirm="Remove it?">  asks before submitting.
document.addEventListener("change", function (event) {
  var field = event.target.closest("[data-autosubmit]");
  if (field && field.form) { field.form.requestSubmit(); }
});
document.addEventListener("submit", function (event) {
  var form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
}, true);

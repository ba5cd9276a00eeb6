// "Copy" buttons: copy the text of the field named by data-copy, and say so.
// Without JavaScript the field is still there to select by hand.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.dataset.copy);
    if (!field) return;
    var done = function () {
      var status = document.getElementById(button.dataset.copy + "-status");
      if (status) status.textContent = "Link copied.";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
    } else {
      field.select();
      document.execCommand("copy");
      done();
    }
  });
})();

/* Copy buttons: <button data-copy="field-id" hidden> copies that field's value to the clipboard.
   Without this script (or a clipboard) the button stays hidden and the field is there to select. */
(function () {
  "use strict";
  function status(id, text) {
    document.querySelectorAll('[data-copy-status="' + id + '"]').forEach(function (el) { el.textContent = text; });
  }
  function setUp() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var id = button.getAttribute("data-copy");
      var field = document.getElementById(id);
      if (!field) return;
      button.hidden = false;
      field.addEventListener("focus", function () { field.select(); });
      button.addEventListener("click", function () {
        field.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(
            function () { status(id, "Copied."); },
            function () { status(id, "Not copied: select the text and copy it (Ctrl+C)."); }
          );
        } else {
          status(id, "Selected: press Ctrl+C (⌘C) to copy.");
        }
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();

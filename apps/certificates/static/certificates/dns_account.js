// A DNS account's page: show the credential fields of the chosen provider only (without this script,
// every provider's fields show, each group under its provider's name).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const provider = document.getElementById("id_provider");
  if (!provider) return;
  const show = () => {
    for (const group of document.querySelectorAll("fieldset.dns-provider")) {
      group.hidden = !group.classList.contains(`dns-provider-${provider.value}`);
    }
  };
  provider.addEventListener("change", show);
  show();
});

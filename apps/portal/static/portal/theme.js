/* Runs before the page is painted: applies the theme the user chose (light or dark, kept in
   localStorage) or, without a choice, the system's (prefers-color-scheme), so no page flashes the
   other one. Also marks that scripts run (the mobile navigation collapses only then). */
(function () {
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var chosen = window.localStorage.getItem("certmate-theme");
    if (chosen === "light" || chosen === "dark") {
      root.setAttribute("data-theme", chosen);
    }
  } catch (e) {
    /* storage refused (private mode): follow the system */
  }
})();

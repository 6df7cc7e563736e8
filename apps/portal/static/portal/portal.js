/* The theme toggle and the mobile navigation. Every page works without this file. */
(function () {
  "use strict";
  var KEY = "certmate-theme";
  var root = document.documentElement;
  var system = window.matchMedia("(prefers-color-scheme: dark)");

  function current() {
    var chosen = root.getAttribute("data-theme");
    if (chosen === "light" || chosen === "dark") return chosen;
    return system.matches ? "dark" : "light";
  }

  function store(theme) {
    try {
      // Choosing what the system prefers goes back to following the system.
      if (theme === (system.matches ? "dark" : "light")) window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, theme);
    } catch (e) {
      /* not kept: this page still switches */
    }
  }

  function showTheme(button) {
    var dark = current() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
    button.textContent = "Dark mode";
    button.title = dark ? "Switch to the light theme" : "Switch to the dark theme";
  }

  function setUp() {
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.hidden = false;
      showTheme(button);
      button.addEventListener("click", function () {
        var next = current() === "dark" ? "light" : "dark";
        root.setAttribute("data-theme", next);
        store(next);
        showTheme(button);
      });
      system.addEventListener("change", function () { showTheme(button); });
    });

    var nav = document.getElementById("portal-nav");
    document.querySelectorAll("[data-nav-toggle]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        button.setAttribute("aria-expanded", open ? "true" : "false");
        if (nav) nav.classList.toggle("is-open", open);
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();

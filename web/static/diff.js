/* The diff page shows the changes inline and side by side; with scripts, two buttons switch
   between the two views (the choice is remembered), without them both are shown. */
(function () {
  "use strict";

  var KEY = "accord.diffView";
  var toggle = document.querySelector("[data-diff-toggle]");
  if (!toggle) {
    return;
  }
  var views = document.querySelectorAll("[data-diff-view]");
  var buttons = toggle.querySelectorAll("[data-diff-show]");

  function remembered() {
    try {
      return window.localStorage.getItem(KEY);
    } catch (error) {
      return null; // storage may be off; the default view serves
    }
  }

  function remember(name) {
    try {
      window.localStorage.setItem(KEY, name);
    } catch (error) {
      /* not remembered, still shown */
    }
  }

  function show(name) {
    Array.prototype.forEach.call(views, function (view) {
      view.hidden = view.getAttribute("data-diff-view") !== name;
    });
    Array.prototype.forEach.call(buttons, function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-diff-show") === name));
    });
  }

  Array.prototype.forEach.call(buttons, function (button) {
    button.addEventListener("click", function () {
      var name = button.getAttribute("data-diff-show");
      show(name);
      remember(name);
    });
  });
  toggle.hidden = false;
  show(remembered() === "side-by-side" ? "side-by-side" : "inline");
})();

/* The editor's live preview: as the author types, the Markdown is rendered by the server's own
   sanitizer (POST /preview, with the form's CSRF token) and shown next to the text. Without
   scripts the form still saves; the preview then shows the text as it was loaded. */
(function () {
  "use strict";

  var DELAY_MS = 300;
  var textarea = document.querySelector("textarea[data-preview-url]");
  if (!textarea || !window.fetch) {
    return;
  }
  var form = textarea.form;
  var pane = document.getElementById(textarea.getAttribute("data-preview-target"));
  var status = document.getElementById(textarea.getAttribute("data-preview-status"));
  var url = textarea.getAttribute("data-preview-url");
  var failed = textarea.getAttribute("data-preview-failed") || "";
  var tokenField = form && form.querySelector('input[name="csrf_token"]');
  if (!pane || !status || !tokenField) {
    return;
  }

  var timer = null;
  var controller = null;
  var shown = pane.innerHTML.trim() ? textarea.defaultValue : null; // text the pane shows
  var saving = false;

  function say(message) {
    status.textContent = message || "";
  }

  function refresh() {
    var text = textarea.value;
    if (text === shown) {
      pane.removeAttribute("aria-busy");
      return;
    }
    if (controller) {
      controller.abort();
    }
    controller = typeof AbortController === "function" ? new AbortController() : null;
    var body = new FormData();
    body.append("body", text);
    pane.setAttribute("aria-busy", "true");
    fetch(url, {
      method: "POST",
      body: body,
      headers: { "X-CSRFToken": tokenField.value },
      credentials: "same-origin",
      redirect: "error",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.text().then(function (answer) {
        if (textarea.value !== text) {
          return; // typed on meanwhile: a newer request is coming
        }
        pane.removeAttribute("aria-busy");
        if (response.ok) {
          pane.innerHTML = answer; // sanitized by the server, like every saved revision
          shown = text;
          say("");
        } else {
          var type = response.headers.get("Content-Type") || "";
          say(type.indexOf("text/plain") === 0 ? answer : failed);
        }
      });
    }).catch(function (error) {
      if (error && error.name === "AbortError") {
        return;
      }
      pane.removeAttribute("aria-busy");
      say(failed);
    });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, DELAY_MS);
  }

  textarea.addEventListener("input", later);

  // Nothing typed is lost by accident: leaving with unsaved changes asks first.
  function dirty() {
    return Array.prototype.some.call(form.elements, function (field) {
      return (field.type === "text" || field.tagName === "TEXTAREA") && field.value !== field.defaultValue;
    });
  }
  form.addEventListener("submit", function () {
    saving = true;
  });
  window.addEventListener("beforeunload", function (event) {
    if (!saving && dirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // A page that came back without a preview (a refused save), or a browser that restored
  // other text than the page was served with: render what the editor holds now.
  if (shown === null || textarea.value !== textarea.defaultValue) {
    refresh();
  }
})();

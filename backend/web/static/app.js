// Gatehouse: small enhancements. Every page works without this file.
(function () {
  "use strict";

  // Confirmation pop-ups: a link with data-dialog opens the <dialog> of that id instead of
  // going to its confirmation page.
  document.querySelectorAll("a[data-dialog]").forEach(function (link) {
    var dialog = document.getElementById(link.getAttribute("data-dialog"));
    if (!dialog || typeof dialog.showModal !== "function") return;
    link.addEventListener("click", function (e) {
      e.preventDefault();
      dialog.showModal();
      var first = dialog.querySelector("button[type=submit]");
      if (first) first.focus();
    });
  });
  document.querySelectorAll("dialog [data-close]").forEach(function (el) {
    el.addEventListener("click", function (e) {
      e.preventDefault();
      el.closest("dialog").close();
    });
  });
  document.querySelectorAll("dialog").forEach(function (dialog) {
    // A click on the backdrop (outside the box) closes it.
    dialog.addEventListener("click", function (e) {
      if (e.target === dialog) dialog.close();
    });
  });

  // The Print button of the recovery codes page.
  document.querySelectorAll("[data-print]").forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () { window.print(); });
  });

  // Copy (the authenticator key): the text of data-copy to the clipboard, said in the
  // element named by data-copy-status. Without the Clipboard API (a page not served over
  // HTTPS or from this computer), the key is selected for the person to copy.
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    var status = document.getElementById(btn.getAttribute("data-copy-status"));
    var say = function (text) { if (status) status.textContent = text; };
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = btn.getAttribute("data-copy");
      var select = function () {
        var key = btn.parentNode.querySelector("code");
        if (!key) return;
        var range = document.createRange();
        range.selectNodeContents(key);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        say("The key is selected: copy it with your device's Copy command.");
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { say("Key copied. Paste it in your authenticator app."); }, select);
      } else {
        select();
      }
    });
  });

  // The user menu closes on a click elsewhere or on Escape.
  var menu = document.querySelector(".user-menu");
  if (menu) {
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) menu.open = false;
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }
})();

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

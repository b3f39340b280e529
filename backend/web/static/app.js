// Gatehouse: small enhancements. Every page works without this file.
(function () {
  "use strict";

  // The answer to a form post names the page it can be loaded again at (web/reload.go): this
  // history entry becomes that page, so Back and Reload do not ask to send the form again.
  var reload = document.body.getAttribute("data-reload");
  if (reload && window.history && history.replaceState) history.replaceState(null, "", reload);

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

  // The user menu opens on hover too (the help article: "scroll over your Username ... and
  // select Profile"); a click and the keyboard (Enter or Space on the username) open it as they
  // always do. Opened by hover, it closes a moment after the pointer leaves it, unless a click
  // pinned it open meanwhile. A tap on a touch screen (which sends mouseenter, then click)
  // opens and pins it, as a click does.
  var menu = document.querySelector(".user-menu");
  if (menu) {
    var byHover = false, closing = null;
    menu.addEventListener("mouseenter", function () {
      clearTimeout(closing);
      if (!menu.open) {
        menu.open = true;
        byHover = true;
      }
    });
    menu.addEventListener("mouseleave", function () {
      if (!byHover) return;
      closing = setTimeout(function () {
        if (byHover) menu.open = false;
        byHover = false;
      }, 300);
    });
    menu.querySelector("summary").addEventListener("click", function (e) {
      if (byHover && menu.open) {
        e.preventDefault(); // the click on a menu hover opened keeps it open
        byHover = false;
      }
    });
  }

  // The user menu closes on a click elsewhere or on Escape.
  if (menu) {
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) {
        menu.open = false;
        byHover = false;
      }
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open) {
        menu.open = false;
        byHover = false;
        menu.querySelector("summary").focus();
      }
    });
  }
})();

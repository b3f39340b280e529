// Gatehouse: the SMS pages. Every page works without this file: the "I have sent the text" button
// reloads the setup page, and "Send again" answers with the wait if it is too early.
(function () {
  "use strict";

  // "Use SMS", waiting for the text: poll the status endpoint, and reload once the state is no
  // longer "waiting" (the text arrived, from a usable number or not, or the code expired): the
  // page then shows what is next.
  var box = document.querySelector("[data-sms-status]");
  if (box) {
    var url = box.getAttribute("data-sms-status");
    var live = document.getElementById("sms-live");
    var every = 2000, failures = 0;
    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (res) {
          var type = res.headers.get("Content-Type") || "";
          if (res.ok && type.indexOf("application/json") === 0) return res.json();
          // The login ended or moved on, or the session is gone: the page itself says where to go.
          if (res.redirected || res.status === 401 || res.status === 403 || res.status === 409) {
            location.reload();
            return null;
          }
          throw new Error("status " + res.status);
        })
        .then(function (st) {
          if (!st) return;
          failures = 0;
          if (st.state !== "waiting") {
            if (live) {
              live.textContent = st.state === "received" ? "Your text message arrived."
                : st.state === "refused" ? "Your text came from a number that cannot be used." : "Your code expired.";
            }
            location.reload();
            return;
          }
          setTimeout(poll, every);
        })
        .catch(function () {
          failures++;
          if (failures <= 8) {
            setTimeout(poll, Math.min(30000, every * Math.pow(2, failures)));
          } else if (live) {
            live.textContent = "Could not check for your text. Use the button below once you have sent it.";
          }
        });
    };
    setTimeout(poll, every);
  }

  // "Send again": disabled, with a countdown, until the cooldown is over.
  document.querySelectorAll("button[data-wait]").forEach(function (btn) {
    var left = parseInt(btn.getAttribute("data-wait"), 10) || 0;
    var text = btn.parentNode.querySelector("[data-wait-text]");
    if (left <= 0) return;
    btn.disabled = true;
    var tick = function () {
      if (left <= 0) {
        btn.disabled = false;
        if (text) text.textContent = "No text? You can ask for another code.";
        return;
      }
      if (text) text.textContent = "You can ask for another code in " + left + (left === 1 ? " second." : " seconds.");
      left--;
      setTimeout(tick, 1000);
    };
    tick();
  });
})();

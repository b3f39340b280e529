// Gatehouse: security keys and passkeys (WebAuthn), on the pages of webauthn.templ. WebAuthn is a
// JavaScript API, so these pages need this file; without it they say so (noscript) and offer
// the other ways. The words shown come from the page (data-msg-*), which has them from backend.
//
// On submit of a form[data-webauthn]: POST data-options for the ceremony's options (JSON, the
// challenge kept by the server with this login or session), call the browser with them, put its
// answer (JSON, binary fields base64url) in the form's "response" field and submit the form.
(function () {
  "use strict";

  var form = document.querySelector("form[data-webauthn]");
  if (!form) return;
  var mode = form.getAttribute("data-webauthn"); // "register" or "login"
  var button = form.querySelector("[data-webauthn-start]");
  var status = document.getElementById("webauthn-status");

  // say shows text; with a place to go (the server's {"error", "location", "link"} when the
  // page cannot go on: the login or session ended, the password is to be confirmed again), the
  // link there after it.
  var say = function (text, isError, location, link) {
    if (!status) return;
    status.textContent = text;
    if (location) {
      var a = document.createElement("a");
      a.href = location;
      a.textContent = link || location;
      status.appendChild(document.createTextNode(" "));
      status.appendChild(a);
    }
    status.className = isError ? "alert" : "alert info";
    status.setAttribute("role", isError ? "alert" : "status");
    status.hidden = !text;
  };
  var msg = function (name) {
    return form.getAttribute("data-msg-" + String(name).toLowerCase()) || form.getAttribute("data-msg");
  };

  if (!window.PublicKeyCredential || !navigator.credentials) {
    say(msg("unsupported"), true);
    return;
  }
  // What needs this script is hidden until now (no form to post without it); the autofocus a
  // hidden element could not take is given here.
  document.querySelectorAll("[data-webauthn-ui]").forEach(function (el) { el.hidden = false; });
  var first = form.querySelector("[autofocus]");
  if (first) first.focus();

  // base64url (RFC 4648 §5, no padding) to and from ArrayBuffer.
  var fromB64 = function (s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  };
  var toB64 = function (buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  var decodeOptions = function (pk) {
    pk.challenge = fromB64(pk.challenge);
    if (pk.user) pk.user.id = fromB64(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = fromB64(c.id); });
    (pk.allowCredentials || []).forEach(function (c) { c.id = fromB64(c.id); });
    return pk;
  };

  var encodeCredential = function (cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toB64(cred.rawId),
      type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64(r.clientDataJSON) }
    };
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    if (mode === "register") {
      out.response.attestationObject = toB64(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toB64(r.authenticatorData);
      out.response.signature = toB64(r.signature);
      if (r.userHandle) out.response.userHandle = toB64(r.userHandle);
    }
    return out;
  };

  var start = function () {
    if (button) button.disabled = true;
    say(msg("prompt"), false);
    fetch(form.getAttribute("data-options"), {
      method: "POST", credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" }
    })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) {
            var e = new Error(body.error || msg(""));
            e.name = "ServerError";
            e.location = body.location;
            e.link = body.link;
            throw e;
          }
          return body;
        });
      })
      .then(function (opts) {
        var pk = decodeOptions(opts.publicKey);
        return mode === "register" ? navigator.credentials.create({ publicKey: pk }) : navigator.credentials.get({ publicKey: pk });
      })
      .then(function (cred) {
        form.elements.response.value = JSON.stringify(encodeCredential(cred));
        form.submit();
      })
      .catch(function (err) {
        if (button) button.disabled = false;
        if (err.name === "ServerError") say(err.message, true, err.location, err.link);
        else say(msg(err.name), true);
      });
  };

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (form.reportValidity && !form.reportValidity()) return;
    start();
  });
})();

// The portal's only script: error toasts for htmx requests that fail (htmx 2 does
// not swap 4xx/5xx responses; base.html's htmx-config marks them as errors), and the
// page's side of live updates (which regions it shows, list refreshes, and why the
// live channel closed: signed out, blocked, too many pages).
(function () {
  "use strict";

  function toast(message) {
    var box = document.getElementById("toasts");
    if (!box) { return; }
    var item = document.createElement("p");
    item.className = "toast";
    item.setAttribute("role", "alert");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = "Something went wrong (" + xhr.status + ").";
    if (xhr.responseText) {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var message = doc.querySelector(".error-message");
      if (message) { text = message.textContent; }
    }
    toast(text);
  });

  document.addEventListener("htmx:sendError", function () {
    toast("The portal could not be reached. Check your connection and try again.");
  });

  // Print buttons (invoices): the CSP forbids inline handlers, so the click is bound here.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });

  // --- live updates ------------------------------------------------------------
  // The page tells its socket which live regions ([data-live] with an id) it shows.
  // The server pushes fresh fragments for those regions, rendered for this person.
  var live = { socket: null, opens: 0, sent: "", timer: null };

  function watched() {
    return Array.prototype.map.call(
      document.querySelectorAll("[data-live][id]"), function (el) { return el.id; }
    ).sort();
  }

  function sendWatch(mode) {
    if (!live.socket) { return; }
    var ids = watched();
    var key = ids.join(" ");
    if (mode === "update" && key === live.sent) { return; }
    live.sent = key;
    live.socket.send(JSON.stringify({
      watch: ids, page: document.body.dataset.page || "", mode: mode
    }));
    // Lets people (and browser tests) see that the page is live.
    document.body.dataset.liveState = "watching";
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    live.socket = event.detail.socketWrapper;
    live.opens += 1;
    // After a reconnect, lists may have changed unseen too: the server resyncs all.
    sendWatch(live.opens === 1 ? "load" : "reconnect");
  });

  // Closes the server means for good (htmx's ws extension does not reconnect after
  // them). The server pushes the page's notice just before its close frame; these
  // words stand in should it be missing.
  function closedFor(closed) {
    if (closed.code === 1008 && closed.reason === "blocked") {
      return "Your access was blocked and you were signed out.";
    }
    if (closed.code === 1008) { return "You were signed out."; }
    if (closed.code === 4429) {
      return "This page is not live: too many pages of the portal are open in this " +
        "browser. Close some of them, then reload this page.";
    }
    return null;
  }

  document.addEventListener("htmx:wsClose", function (event) {
    live.socket = null;
    document.body.dataset.liveState = "closed";
    var closed = event.detail.event;
    var message = closed ? closedFor(closed) : null;
    if (message) {
      document.body.dataset.liveClosed = String(closed.code);
      var status = document.getElementById("live-status");
      if (status && status.hidden) {
        status.textContent = message;
        status.hidden = false;
      }
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    clearTimeout(live.timer);
    live.timer = setTimeout(function () { sendWatch("update"); }, 30);
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    // event.target is the swapped-in signal; htmx 2's detail.target is the old element.
    var target = event.target;
    if (!target || target.id !== "live-signal") { return; }
    var region = document.getElementById(target.getAttribute("data-refresh") || "");
    if (region) { htmx.trigger(region, "live:refresh"); }
  });
})();

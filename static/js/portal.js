// The portal's only script: error toasts for htmx requests that fail (htmx 2 does
// not swap 4xx/5xx responses; base.html's htmx-config marks them as errors), and the
// page's side of live updates (which regions it shows, list refreshes that keep what
// someone is editing, whether the live channel is connected, and why it closed: signed
// out, blocked, too many pages). Its words come from the page, translated.
(function () {
  "use strict";

  // --- words ---------------------------------------------------------------------
  // What this script says comes from the page, in the person's language: the data-*
  // attributes of base.html's <template id="portal-texts">, whose %(name)s holes are
  // filled here. The English below stands in only on a page without that element.
  var ENGLISH = {
    failed: "Something went wrong (%(status)s).",
    unreachable: "The portal could not be reached. Check your connection and try again.",
    blocked: "Your access was blocked and you were signed out.",
    signedOut: "You were signed out.",
    tooMany: "This page is not live: too many pages of the portal are open in this " +
      "browser. Close some of them, then reload this page.",
    viewEnded: "The storefront opened for this customer has closed.",
    paused: "Live updates paused: reconnecting\u2026",
    back: "Live updates are back."
  };

  function words(key, values) {
    var texts = document.getElementById("portal-texts");
    var said = (texts && texts.dataset[key]) || ENGLISH[key];
    return said.replace(/%\((\w+)\)s/g, function (hole, name) {
      return values && values[name] !== undefined ? String(values[name]) : hole;
    });
  }

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
    var text = words("failed", { status: xhr.status });
    if (xhr.responseText) {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var message = doc.querySelector(".error-message");
      if (message) { text = message.textContent; }
    }
    toast(text);
  });

  document.addEventListener("htmx:sendError", function () {
    toast(words("unreachable"));
  });

  // --- the storefront viewed as a customer ---------------------------------------
  // On a page staff view as a customer sees it (body[data-read-only], which holds what to
  // say), nothing changes: the server refuses every change with a 403 that says why, and
  // here the controls that would change something are disabled as they arrive (the page,
  // then every swap and push), and any such request or form is stopped. The staff member's
  // own forms (leaving the view, signing out: [data-stays-enabled]) stay.
  var WRITES = "form[method=post] button, form[method=post] input, form[method=post] select, " +
    "form[method=post] textarea, [hx-post], [hx-put], [hx-patch], [hx-delete]";

  function readOnly() {
    return document.body !== null && document.body.hasAttribute("data-read-only");
  }

  function kept(el) { return el.closest("[data-stays-enabled]") !== null; }

  function freeze(root) {
    if (!readOnly() || !root || !root.querySelectorAll) { return; }
    var found = Array.prototype.slice.call(root.querySelectorAll(WRITES));
    if (root.matches && root.matches(WRITES)) { found.push(root); }
    found.forEach(function (el) {
      if (kept(el)) { return; }
      if ("disabled" in el) { el.disabled = true; }
      el.setAttribute("aria-disabled", "true");
    });
  }

  document.addEventListener("htmx:load", function (event) { freeze(event.target); });

  document.addEventListener("htmx:confirm", function (event) {
    var verb = String(event.detail.verb || "get").toLowerCase();
    if (!readOnly() || verb === "get" || kept(event.detail.elt)) { return; }
    event.preventDefault();
    toast(document.body.getAttribute("data-read-only"));
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!readOnly() || String(form.method).toLowerCase() !== "post" || kept(form)) { return; }
    event.preventDefault();
    toast(document.body.getAttribute("data-read-only"));
  }, true);

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
    // "rendered": when the server began this page; on "load" it resyncs only what
    // changed since.
    live.socket.send(JSON.stringify({
      watch: ids, page: document.body.dataset.page || "", mode: mode,
      rendered: document.body.dataset.rendered || ""
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
    if (closed.code === 1008 && closed.reason === "blocked") { return words("blocked"); }
    if (closed.code === 1008 && closed.reason === "view ended") { return words("viewEnded"); }
    if (closed.code === 1008) { return words("signedOut"); }
    if (closed.code === 4429) { return words("tooMany"); }
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
    if (!region) { return; }
    if (region.classList.contains("htmx-added")) {
      // Swapped in a moment ago (the answer to this person's own change, say) and not
      // yet set up by htmx: it would not hear the signal. It listens once it is.
      region.addEventListener("htmx:load", function loaded(loadEvent) {
        if (loadEvent.target !== region) { return; }
        region.removeEventListener("htmx:load", loaded);
        htmx.trigger(region, "live:refresh");
      });
      return;
    }
    htmx.trigger(region, "live:refresh");
  });

  // --- ordering follows the live offer ------------------------------------------------
  // Beside a product's offer region (a card, a table row, its page: .orderable) sit its
  // "Add to cart" ([data-when-orderable]) and the reason it cannot be ordered
  // ([data-when-not-orderable]); the server draws one of them hidden. When the live layer
  // pushes the offer afresh, its data-orderable says which of them shows now.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var offer = event.target;
    if (!offer || !offer.classList || !offer.classList.contains("offer")) { return; }
    var holder = offer.closest(".orderable");
    if (!holder) { return; }
    var orderable = offer.getAttribute("data-orderable") !== "false";
    Array.prototype.forEach.call(holder.querySelectorAll("[data-when-orderable]"), function (el) {
      el.hidden = !orderable;
    });
    Array.prototype.forEach.call(holder.querySelectorAll("[data-when-not-orderable]"), function (el) {
      el.hidden = orderable;
    });
  });

  // --- reconnecting ----------------------------------------------------------------
  // After the n-th failed try in a row, the ws extension waits a delay drawn at random
  // from [0, min(cap, base * 2^n)) ms ("full jitter"): a lone page is back within about
  // a second, and the thousands of pages of a restarted worker arrive spread out rather
  // than all at once. base.html gives "base cap" (blueprints/live's RECONNECT_*_MS,
  // which bench/fanout.py's clients follow too).
  function reconnectPolicy() {
    var given = (document.body.dataset.wsReconnect || "").split(" ");
    var base = parseInt(given[0], 10) || 1000;
    var cap = parseInt(given[1], 10) || 30000;
    htmx.config.wsReconnectDelay = function (retries) {
      return Math.random() * Math.min(cap, base * Math.pow(2, Math.min(retries, 30)));
    };
  }

  // --- the connection indicator ------------------------------------------------
  // A banner (base.html's #live-connection, role=status) says when the live channel is
  // lost and being reconnected, then, for a moment, that it is back. Only for the closes
  // htmx's ws extension retries (1006, 1011, 1012, 1013): the server's closes for good
  // (signed out or blocked 1008, too many pages 4429) are told by #live-status, and a
  // page being left says nothing.
  function connectionIndicator() {
    var RETRIED = [1006, 1011, 1012, 1013];
    var BACK_FOR = 4000;  // ms that "back" stays
    var state = { lost: false, leaving: false, timer: null };

    function banner() { return document.getElementById("live-connection"); }

    function hide() {
      var el = banner();
      clearTimeout(state.timer);
      if (!el) { return; }
      el.hidden = true;
      el.textContent = "";
      delete el.dataset.state;
    }

    function show(key) {
      var el = banner();
      if (!el || el.dataset.state === key) { return; }
      clearTimeout(state.timer);
      el.dataset.state = key;
      function fill() {
        el.textContent = words(key);
        if (key === "back") { state.timer = setTimeout(hide, BACK_FOR); }
      }
      if (el.hidden) {
        // Shown empty, then filled: screen readers announce text that arrives in a live
        // region already on the page more surely than a region appearing with its text.
        el.textContent = "";
        el.hidden = false;
        state.timer = setTimeout(fill, 50);
      } else {
        fill();
      }
    }

    function lost() {
      if (state.leaving) { return; }
      state.lost = true;
      show("paused");
    }

    window.addEventListener("pagehide", function () { state.leaving = true; });
    window.addEventListener("pageshow", function () { state.leaving = false; });
    document.addEventListener("htmx:wsError", lost);
    document.addEventListener("htmx:wsClose", function (event) {
      var closed = event.detail.event;
      if (closed && RETRIED.indexOf(closed.code) >= 0) {
        lost();
      } else {
        state.lost = false;  // closed for good, or on purpose: nothing to reconnect
        hide();
      }
    });
    document.addEventListener("htmx:wsOpen", function () {
      if (state.lost) {
        state.lost = false;
        show("back");
      }
    });
  }

  // --- live refreshes keep what a person is doing ---------------------------------
  // A list region marked data-keep-edits re-fetches itself on a live signal like any
  // other, but what someone is busy with in it survives the swap. Its units are the
  // elements matching the attribute's selector (rows: "tr[id]"), or the region itself
  // when it names none. A unit is busy while it holds a field changed and not saved (a
  // field's saved value is its data-saved, else the value it was drawn with), a request
  // in flight, the focus (rows only), or a notice answering the person's own last action
  // (kept through one refresh). A busy region is not swapped; busy rows stay as they are
  // (htmx's hx-preserve) while the others take the fresh markup. Only live refreshes do
  // this: a search or a save is answered with what it asked for.
  function keepEditsThroughRefresh() {
    function changed(field) {
      if (field.type === "checkbox" || field.type === "radio") {
        return field.checked !== field.defaultChecked;
      }
      if (field.tagName === "SELECT") {
        return Array.prototype.some.call(field.options, function (option) {
          return option.selected !== option.defaultSelected;
        });
      }
      if (/^(hidden|submit|button|reset|image)$/.test(field.type)) { return false; }
      var saved = field.getAttribute("data-saved");
      return field.value !== (saved === null ? field.defaultValue : saved);
    }

    function busy(unit, whole) {
      var fields = unit.querySelectorAll("input, select, textarea");
      for (var i = 0; i < fields.length; i += 1) {
        if (changed(fields[i])) { return true; }
      }
      // The region's own re-fetch is in flight too: only what is inside it counts.
      if (unit.querySelector(".htmx-request")) { return true; }
      if (!whole && (unit.classList.contains("htmx-request") ||
          unit.contains(document.activeElement))) { return true; }
      var notices = unit.querySelectorAll(
        "[role=status]:not([data-seen]), [role=alert]:not([data-seen])"
      );
      Array.prototype.forEach.call(notices, function (notice) {
        notice.setAttribute("data-seen", "");
      });
      return notices.length > 0;
    }

    document.addEventListener("htmx:beforeSwap", function (event) {
      var detail = event.detail;
      var config = detail.requestConfig || {};
      var region = config.elt;
      var trigger = config.triggeringEvent;
      if (!detail.shouldSwap || !region || !region.hasAttribute("data-keep-edits") ||
          !trigger || trigger.type !== "live:refresh") { return; }
      var units = region.getAttribute("data-keep-edits");
      if (!units) {
        if (busy(region, true)) { detail.shouldSwap = false; }
        return;
      }
      // A request of the whole (a form around the rows) answers for all of them.
      var pending = region.querySelectorAll(".htmx-request");
      for (var i = 0; i < pending.length; i += 1) {
        if (!pending[i].closest(units)) {
          detail.shouldSwap = false;
          return;
        }
      }
      var html = detail.serverResponse;
      Array.prototype.forEach.call(region.querySelectorAll(units), function (unit) {
        if (unit.id && busy(unit, false)) {
          var drawn = 'id="' + unit.id + '"';
          html = html.replace(drawn, drawn + " hx-preserve");
        }
      });
      detail.serverResponse = html;
    });

    // A region the live layer pushes whole (out of band) rather than signals keeps its
    // busy units the same way: they are marked hx-preserve in the pushed fragment.
    document.addEventListener("htmx:oobBeforeSwap", function (event) {
      var detail = event.detail;
      var region = detail.target;
      var units = region && region.getAttribute && region.getAttribute("data-keep-edits");
      if (!units || !detail.fragment || !detail.shouldSwap) { return; }
      Array.prototype.forEach.call(region.querySelectorAll(units), function (unit) {
        if (!unit.id || !busy(unit, false)) { return; }
        var fresh = detail.fragment.querySelector("#" + CSS.escape(unit.id));
        if (fresh) { fresh.setAttribute("hx-preserve", ""); }
      });
    });
  }

  connectionIndicator();
  // Now, before htmx starts and the ws extension would set its own default.
  if (window.htmx && document.body) { reconnectPolicy(); }
  keepEditsThroughRefresh();
})();

// Layout and accessibility, apart from the live code above: the menu button of narrow
// screens, folded filters, scrolling tables a keyboard can reach, and focus on the first
// field in error.
(function () {
  "use strict";

  var NARROW = "(max-width: 60em)";  // as the stylesheet's folding of the navigation
  var WIDE_FILTERS = "(min-width: 48.01em)";  // as the stylesheet's catalogue columns

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  // --- the menu button ----------------------------------------------------------
  // A disclosure: the button tells its state in aria-expanded; body[data-menu] lets the
  // stylesheet fold the navigation on narrow screens. Without this script the button
  // stays hidden and the navigation open.
  function setMenu(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    document.body.dataset.menu = open ? "open" : "closed";
  }

  function setupMenu() {
    var button = document.getElementById("menu-toggle");
    if (!button) { return; }
    setMenu(button, false);
    button.hidden = false;
    button.addEventListener("click", function () {
      setMenu(button, button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      var open = button.getAttribute("aria-expanded") === "true";
      if (event.key === "Escape" && open && window.matchMedia(NARROW).matches) {
        setMenu(button, false);
        button.focus();
      }
    });
  }

  // --- folded filters -----------------------------------------------------------
  // <details data-fold>: a button to open on narrow screens, always open on wide ones.
  function setupFolds() {
    var wide = window.matchMedia(WIDE_FILTERS);
    function sync() {
      Array.prototype.forEach.call(document.querySelectorAll("details[data-fold]"), function (d) {
        d.open = wide.matches;
      });
    }
    sync();
    wide.addEventListener("change", sync);
  }

  // --- the search box's suggestions (a combobox) ---------------------------------
  // htmx loads the suggestions into the listbox as the person types; here the box opens
  // and closes with them, and the keyboard walks them: the arrows move the active option
  // (aria-activedescendant, the focus stays in the box), Enter opens it, Escape closes.
  function setupCombobox(box) {
    var input = box.querySelector("[role=combobox]");
    var list = box.querySelector("[role=listbox]");
    if (!input || !list) { return; }
    var active = -1;

    function options() { return list.querySelectorAll("[role=option]"); }

    function choose(index) {
      var all = options();
      active = index;
      Array.prototype.forEach.call(all, function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(open) {
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      if (!open) { choose(-1); }
    }

    list.addEventListener("htmx:afterSwap", function () {
      choose(-1);
      show(options().length > 0 && document.activeElement === input);
    });
    // A press on an option must not take the focus (and close the list) before the click.
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    input.addEventListener("blur", function () { show(false); });
    input.addEventListener("focus", function () { if (options().length) { show(true); } });
    input.addEventListener("keydown", function (event) {
      var count = options().length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!count) { return; }
        event.preventDefault();
        if (list.hidden) { show(true); }
        var step = event.key === "ArrowDown" ? 1 : -1;
        choose(((active + step) % count + count) % count);
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        window.location.assign(options()[active].href);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        show(false);
      } else if (event.key === "Enter") {
        show(false);  // the search itself goes on
      }
    });
  }

  // --- focus on the first field in error ----------------------------------------
  // After a page answered with errors, or a form swapped in with them (a 422), the
  // keyboard and screen reader land on the first field to correct.
  var IN_ERROR = [
    "[aria-invalid='true']",
    ".field--error input", ".field--error select", ".field--error textarea",
    ".checks--error input", ".row--error input"
  ].join(", ");

  function focusFirstError(root) {
    var fields = (root || document).querySelectorAll(IN_ERROR);
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if (!field.disabled && field.type !== "hidden" && field.getClientRects().length) {
        field.focus();
        return true;
      }
    }
    return false;
  }

  // --- boxes that scroll, reachable by keyboard ------------------------------------
  // On narrow screens a wide table scrolls inside itself (the stylesheet): one without a
  // link or field inside takes the focus, so the arrow keys can scroll it.
  var SCROLLERS = ".main table, .report__table";

  function scrollsItself(box) {
    var style = window.getComputedStyle(box);
    var x = /auto|scroll/.test(style.overflowX) && box.scrollWidth > box.clientWidth + 1;
    var y = /auto|scroll/.test(style.overflowY) && box.scrollHeight > box.clientHeight + 1;
    return x || y;
  }

  function focusableScrollers() {
    Array.prototype.forEach.call(document.querySelectorAll(SCROLLERS), function (box) {
      var ours = box.hasAttribute("data-scroll-focus");
      if (scrollsItself(box)) {
        if (!box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");
          box.setAttribute("data-scroll-focus", "");
        }
      } else if (ours) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-focus");
      }
    });
  }

  var resized = null;
  window.addEventListener("resize", function () {
    clearTimeout(resized);
    resized = setTimeout(focusableScrollers, 150);
  });
  document.addEventListener("htmx:afterSettle", focusableScrollers);

  document.addEventListener("htmx:afterSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status !== 422) { return; }
    // An outerHTML swap replaces the target: look in its successor (same id), if any.
    var target = event.detail.target;
    if (target && !document.body.contains(target)) {
      target = target.id ? document.getElementById(target.id) : null;
    }
    focusFirstError(target || document);
  });

  ready(function () {
    setupMenu();
    setupFolds();
    Array.prototype.forEach.call(document.querySelectorAll("[data-combobox]"), setupCombobox);
    focusableScrollers();
    focusFirstError(document.getElementById("main"));
  });
})();

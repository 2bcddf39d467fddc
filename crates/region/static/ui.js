// The web UI's own client code (small, no build step): live updates over
// server-sent events (changed rows, and a note when machines are added to
// an open list), power fields that follow the chosen power type, and
// "select all" in the machine list. Pages work without it, minus the live
// updates.
(function () {
  "use strict";
  var es = null;
  var added = {};

  function connect() {
    if (es) { es.close(); es = null; }
    var live = document.querySelectorAll("[data-live]");
    var addedNote = document.getElementById("added-note");
    if (!live.length && !addedNote) return;
    var ids = [];
    var view = "row";
    live.forEach(function (el) {
      ids.push(el.getAttribute("data-live"));
      if (el.getAttribute("data-view") === "summary") view = "summary";
    });
    es = new EventSource("/MAAS/r/events?view=" + view + (addedNote ? "&added=1" : "") +
      "&ids=" + encodeURIComponent(ids.join(",")));
    function swap(html, wrapTag) {
      var box = document.createElement(wrapTag);
      box.innerHTML = html;
      var fresh = box.firstElementChild;
      if (!fresh) return;
      var old = document.getElementById(fresh.id);
      if (!old) return;
      var cb = old.querySelector("input[type=checkbox]");
      var checked = cb && cb.checked;
      old.replaceWith(fresh);
      if (checked) {
        var ncb = fresh.querySelector("input[type=checkbox]");
        if (ncb) ncb.checked = true;
      }
    }
    es.addEventListener("open", function () { document.body.setAttribute("data-live-open", ""); });
    es.addEventListener("row", function (ev) { swap(ev.data, "tbody"); });
    es.addEventListener("summary", function (ev) { swap(ev.data, "div"); });
    es.addEventListener("gone", function (ev) {
      var el = document.getElementById("m-" + ev.data) || document.getElementById("s-" + ev.data);
      if (el) el.classList.add("gone");
    });
    es.addEventListener("added", function (ev) {
      if (!addedNote) return;
      added[ev.data] = true;
      var n = Object.keys(added).length;
      document.getElementById("added-count").textContent =
        n + (n === 1 ? " machine was" : " machines were") + " added since this list loaded.";
      addedNote.hidden = false;
    });
    es.addEventListener("resync", function () {
      var n = document.getElementById("live-note");
      if (n) n.hidden = false;
    });
  }

  function powerFields() {
    var sel = document.getElementById("power_type");
    if (!sel) return;
    function update() {
      document.querySelectorAll("fieldset[data-power-type]").forEach(function (f) {
        var on = f.getAttribute("data-power-type") === sel.value;
        f.hidden = !on;
        f.disabled = !on;
      });
    }
    sel.addEventListener("change", update);
    update();
  }

  document.addEventListener("change", function (e) {
    if (e.target && e.target.id === "select-all") {
      document.querySelectorAll("input[name=sid][form=bulk]").forEach(function (c) {
        c.checked = e.target.checked;
      });
    }
  });
  document.addEventListener("DOMContentLoaded", function () { connect(); powerFields(); });
  document.addEventListener("htmx:afterSettle", connect);
  window.addEventListener("pagehide", function () { if (es) es.close(); });
})();

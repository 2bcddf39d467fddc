// The web UI's own client code (small, no build step): live updates over
// server-sent events, power fields that follow the chosen power type, and
// "select all" in the machine list. Pages work without it, minus the live
// updates.
(function () {
  "use strict";
  var es = null;

  function connect() {
    if (es) { es.close(); es = null; }
    var live = document.querySelectorAll("[data-live]");
    if (!live.length) return;
    var ids = [];
    var view = "row";
    live.forEach(function (el) {
      ids.push(el.getAttribute("data-live"));
      if (el.getAttribute("data-view") === "summary") view = "summary";
    });
    es = new EventSource("/MAAS/r/events?view=" + view + "&ids=" + encodeURIComponent(ids.join(",")));
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
    es.addEventListener("row", function (ev) { swap(ev.data, "tbody"); });
    es.addEventListener("summary", function (ev) { swap(ev.data, "div"); });
    es.addEventListener("gone", function (ev) {
      var el = document.getElementById("m-" + ev.data) || document.getElementById("s-" + ev.data);
      if (el) el.classList.add("gone");
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

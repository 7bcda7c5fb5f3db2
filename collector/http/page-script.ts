// The pages' only script, served as /app.js (CSP: script-src 'self', no inline
// script). Progressive enhancement: without it the pages are complete, just
// not live. With it, every few seconds it re-fetches the same URL (so the
// filters in the query string stay), swaps in the new <main> and puts the
// scroll position, open <details> and focus back where they were. A meta
// refresh would reload the page and lose all three.
export const PAGE_SCRIPT = `"use strict";
(function () {
  var main = document.getElementById("main");
  if (!main || typeof fetch !== "function" || typeof DOMParser !== "function") return;
  var seconds = Number(main.getAttribute("data-refresh-seconds")) || 0;
  var status = document.getElementById("refresh-status");
  var lastGood = Date.now();
  var failingSince = 0;
  var timer = 0;
  var inFlight = false;

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  function say(text, stale) {
    if (!status) return;
    status.textContent = text;
    status.className = stale ? "stale" : "";
  }
  function localTimes(root) {
    var times = root.querySelectorAll("time[data-local]");
    for (var i = 0; i < times.length; i++) {
      var t = times[i];
      var d = new Date(t.getAttribute("datetime") || "");
      if (!isNaN(d.getTime())) {
        t.title = t.textContent;
        t.textContent = d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
      }
    }
  }
  function selectingInMain() {
    var sel = window.getSelection && window.getSelection();
    return !!(sel && !sel.isCollapsed && sel.anchorNode && main.contains(sel.anchorNode));
  }
  function schedule() {
    clearTimeout(timer);
    if (seconds > 0) timer = setTimeout(refresh, seconds * 1000);
  }
  function refresh() {
    if (inFlight) return;
    if (document.hidden || selectingInMain()) return schedule();
    inFlight = true;
    fetch(location.href, { cache: "no-store", credentials: "same-origin", headers: { accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var next = doc.getElementById("main");
        if (!next) throw new Error("no main section in the response");
        var y = window.scrollY;
        var x = window.scrollX;
        var open = [];
        var details = main.querySelectorAll("details[id][open]");
        for (var i = 0; i < details.length; i++) open.push(details[i].id);
        var focused = document.activeElement;
        var focusHref = focused && main.contains(focused) && focused.getAttribute ? focused.getAttribute("href") : null;
        var adopted = document.importNode(next, true);
        main.replaceWith(adopted);
        main = adopted;
        for (var j = 0; j < open.length; j++) {
          var d = document.getElementById(open[j]);
          if (d && d.tagName === "DETAILS") d.open = true;
        }
        if (focusHref) {
          var links = main.querySelectorAll("a[href]");
          for (var k = 0; k < links.length; k++) if (links[k].getAttribute("href") === focusHref) { links[k].focus({ preventScroll: true }); break; }
        }
        localTimes(main);
        window.scrollTo(x, y);
        if (doc.title) document.title = doc.title;
        lastGood = Date.now();
        failingSince = 0;
        document.documentElement.setAttribute("data-refreshed-at", String(lastGood));
        say("live · updated " + clock(lastGood), false);
      })
      .catch(function (error) {
        if (!failingSince) failingSince = Date.now();
        say("NOT UPDATING: data from " + clock(lastGood), true);
        if (document.title.indexOf("(stale) ") !== 0) document.title = "(stale) " + document.title;
        if (status) status.title = "Refresh failing since " + clock(failingSince) + ": " + (error && error.message ? error.message : "collector unreachable");
      })
      .then(function () {
        inFlight = false;
        schedule();
      });
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && seconds > 0) refresh();
  });
  localTimes(document);
  // The filter form starts collapsed so a phone's first screen is the node list; a laptop has room for it.
  var box = document.getElementById("filters");
  if (box && window.matchMedia && window.matchMedia("(min-width: 60rem)").matches) box.open = true;
  if (seconds > 0) {
    say("live · every " + seconds + " s", false);
    schedule();
  }
})();
`;

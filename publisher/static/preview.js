/* publisher preview: live reload, index filters, small touches to the mock-ups. No framework. */
(function () {
  "use strict";
  var KEY = "preview-scroll:" + location.pathname + location.search;
  var store = window.sessionStorage;

  /* ---- live reload: keep the page's (and each phone screen's) scroll position */
  function saveScroll() {
    var screens = {};
    document.querySelectorAll("[data-keep-scroll]").forEach(function (el) {
      screens[el.getAttribute("data-keep-scroll")] = el.scrollTop;
    });
    try { store.setItem(KEY, JSON.stringify({ x: scrollX, y: scrollY, screens: screens })); } catch (e) { /* private mode */ }
  }
  function restoreScroll() {
    var saved;
    try { saved = JSON.parse(store.getItem(KEY) || "null"); store.removeItem(KEY); } catch (e) { saved = null; }
    if (!saved) return;
    document.querySelectorAll("[data-keep-scroll]").forEach(function (el) {
      var top = saved.screens && saved.screens[el.getAttribute("data-keep-scroll")];
      if (top) el.scrollTop = top;
    });
    scrollTo(saved.x || 0, saved.y || 0);
  }
  var source = document.body.getAttribute("data-live-reload");
  if (source && window.EventSource) {
    new EventSource(source).onmessage = function (event) {
      if (event.data === "reload") { saveScroll(); location.reload(); }
    };
  }
  if (document.readyState === "complete") restoreScroll();
  else addEventListener("load", restoreScroll);

  /* ---- index filters, on the rows' data- attributes */
  function fold(text) {  // "Bảo hiểm" and "bao hiem" match alike
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }
  var form = document.querySelector("[data-filters]");
  if (form) {
    var FKEY = "preview-filters";
    var rows = Array.prototype.map.call(document.querySelectorAll("tr[data-row]"), function (tr) {
      var channels = {};
      (tr.getAttribute("data-channels") || "").split(" ").forEach(function (part) {
        var bits = part.split("=");
        if (bits[0]) channels[bits[0]] = { state: (bits[1] || "").replace(/_/g, " "), problems: bits[2] === "1" };
      });
      return { tr: tr, title: fold(tr.getAttribute("data-title")), channels: channels };
    });
    var count = form.querySelector("[data-count]");
    var empty = document.querySelector("[data-empty]");
    var apply = function () {
      var q = fold(form.q.value).split(/\s+/).filter(Boolean);
      var kind = form.kind.value, state = form.state.value, channel = form.channel.value;
      var problems = form.problems.checked, shown = 0;
      rows.forEach(function (row) {
        var d = row.tr.dataset, ch = channel ? row.channels[channel] : null;
        var ok = q.every(function (word) { return row.title.indexOf(word) >= 0; }) &&
          (!kind || d.kind === kind) &&
          (!channel || ch) &&
          (!state || (state === "draft" ? d.status === "draft" : (ch ? ch.state : d.state) === state)) &&
          (!problems || (ch ? ch.problems : d.problems === "1"));
        row.tr.hidden = !ok;
        if (ok) shown++;
        row.tr.querySelectorAll("[data-channel]").forEach(function (chip) {
          chip.classList.toggle("is-dim", !!channel && chip.getAttribute("data-channel") !== channel);
        });
      });
      if (count) count.textContent = count.getAttribute("data-template")
        .replace("{shown}", shown).replace("{total}", rows.length);
      if (empty) empty.hidden = shown > 0;
      try {
        store.setItem(FKEY, JSON.stringify({ q: form.q.value, kind: kind, state: state, channel: channel, problems: problems }));
      } catch (e) { /* private mode */ }
    };
    try {
      var saved = JSON.parse(store.getItem(FKEY) || "null");
      if (saved) {
        ["q", "kind", "state", "channel"].forEach(function (name) { if (saved[name]) form[name].value = saved[name]; });
        form.problems.checked = !!saved.problems;
      }
    } catch (e) { /* ignore */ }
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
    apply();
  }

  /* ---- mock-ups: hashtags and timestamps look like links, as on the platforms */
  var TAG = /(^|[\s(])(#[\p{L}\p{N}_]+)|(^|\n)(\d{1,2}:\d{2}(?::\d{2})?)(?=\s)/gu;
  document.querySelectorAll(".fb-msg, .yt-desc-text, .tg-text").forEach(function (root) {
    var chapters = root.classList.contains("yt-desc-text");  // only YouTube links timestamps
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT), nodes = [], node;
    while ((node = walker.nextNode())) if (!node.parentNode.closest("a")) nodes.push(node);
    nodes.forEach(function (text) {
      var value = text.nodeValue, last = 0, out = document.createDocumentFragment(), m;
      TAG.lastIndex = 0;
      while ((m = TAG.exec(value))) {
        if (m[4] && !chapters) continue;
        var lead = m[1] !== undefined ? m[1] : m[3], word = m[2] || m[4];
        var at = m.index + lead.length;
        out.appendChild(document.createTextNode(value.slice(last, at)));
        var span = document.createElement("span");
        span.className = m[2] ? "hashtag" : "ts";
        span.textContent = word;
        out.appendChild(span);
        last = at + word.length;
      }
      if (last === 0) return;
      out.appendChild(document.createTextNode(value.slice(last)));
      text.parentNode.replaceChild(out, text);
    });
  });

  /* ---- count meters: their width is data, set here (the page allows no inline style) */
  document.querySelectorAll("[data-width]").forEach(function (bar) {
    bar.style.width = bar.getAttribute("data-width") + "%";
  });

  /* ---- the portal page fits its frame: a 1280 px wide page, scaled down */
  var views = document.querySelectorAll("[data-fit]");
  function fit() {
    views.forEach(function (view) {
      var width = view.clientWidth / parseFloat(view.getAttribute("data-fit"));
      if (width > 0) view.style.setProperty("--scale", Math.min(width, 1).toFixed(4));
    });
  }
  if (views.length) {
    fit();
    if (window.ResizeObserver) new ResizeObserver(fit).observe(views[0].parentNode);
    else addEventListener("resize", fit);
  }
})();

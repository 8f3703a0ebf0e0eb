// newsbrief search: runs over window.NB_SEARCH, filled by the search/*.js files that
// search.html loads with <script src> (which works from file://, where fetch() does not).
// Each document: [url, title, date, language, language name, source file, English, original].
// Text only ever reaches the page through textContent: nothing in an article becomes markup.
(function () {
  "use strict";
  var MAX = 50;
  var input = document.querySelector("input[name=q]");
  var list = document.getElementById("results");
  var status = document.getElementById("status");
  var docs = null;

  // Case, accents and compatibility forms do not matter: "Tbilisi" finds "TBILISI",
  // "Sofia" finds "София" only if typed in Cyrillic (no transliteration), "Zürich" finds "Zurich".
  function norm(text) {
    return text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase();
  }

  function load() {
    var seen = new Map();
    (window.NB_SEARCH || []).forEach(function (shard) {
      shard.forEach(function (d) { seen.set(d[0], d); });  // a later file's copy wins
    });
    docs = Array.from(seen.values()).map(function (d) {
      return { d: d, title: norm(d[1]), text: norm([d[5], d[6], d[7]].join("\n")) };
    });
  }

  // The raw text around the first match of `term`, with the match marked.
  function snippet(raw, term) {
    var out = "", map = [];
    var chars = Array.from(raw);
    var offset = 0;
    for (var i = 0; i < chars.length; i++) {
      var n = norm(chars[i]);
      for (var k = 0; k < n.length; k++) map.push(offset);
      out += n;
      offset += chars[i].length;
    }
    map.push(raw.length);
    var at = out.indexOf(term);
    if (at < 0) return null;
    var start = map[at], end = map[Math.min(at + term.length, map.length - 1)];
    var from = Math.max(0, start - 90), to = Math.min(raw.length, end + 90);
    var p = document.createElement("p");
    p.className = "snippet";
    p.append((from > 0 ? "…" : "") + raw.slice(from, start));
    var mark = document.createElement("mark");
    mark.textContent = raw.slice(start, end);
    p.append(mark, raw.slice(end, to) + (to < raw.length ? "…" : ""));
    return p;
  }

  function search(query) {
    var terms = norm(query).split(/\s+/).filter(Boolean);
    list.replaceChildren();
    if (!terms.length) {
      status.textContent = "Type a name, a place or a word, in English or in the original script.";
      return;
    }
    var t0 = performance.now();
    if (!docs) load();
    var hits = [];
    docs.forEach(function (x) {
      var score = 0;
      for (var i = 0; i < terms.length; i++) {
        var inTitle = x.title.indexOf(terms[i]) >= 0;
        if (!inTitle && x.text.indexOf(terms[i]) < 0) return;
        score += inTitle ? 2 : 1;
      }
      hits.push({ x: x, score: score });
    });
    hits.sort(function (a, b) {
      return b.score - a.score || (a.x.d[2] < b.x.d[2] ? 1 : a.x.d[2] > b.x.d[2] ? -1 : 0);
    });
    hits.slice(0, MAX).forEach(function (h) {
      var d = h.x.d;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = d[0];
      a.textContent = d[1] || d[0];
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = " " + [d[2], d[4]].filter(Boolean).join(" · ");
      li.append(a, meta);
      var where = [d[7], d[6], d[5]];
      for (var i = 0; i < where.length; i++) {
        var p = where[i] && snippet(where[i], terms[0]);
        if (p) { p.lang = i === 0 ? d[3] : i === 1 ? "en" : ""; if (i === 0) p.dir = "auto"; li.append(p); break; }
      }
      list.append(li);
    });
    var ms = Math.round(performance.now() - t0);
    status.textContent = hits.length + " result" + (hits.length === 1 ? "" : "s") + " for “" + query + "”" +
      (hits.length > MAX ? ", the first " + MAX + " shown" : "") + " (" + ms + " ms, " + docs.length + " documents)";
  }

  var query = new URLSearchParams(location.search).get("q") || "";
  if (input) {
    input.value = query;
    var timer = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { search(input.value); }, 150);
    });
  }
  search(query);
})();

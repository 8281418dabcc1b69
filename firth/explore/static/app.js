// firth explore: the page. Talks to the JSON API of firth/explore/app.py; every word from
// the server is put in the page with textContent / attribute values, never innerHTML.
"use strict";
(function () {
  const C = window.FirthCharts;
  const $ = (id) => document.getElementById(id);
  let info = null;
  let mapPoints = [];

  function showError(msg) {
    $("error").textContent = msg || "";
  }

  async function api(path, params, body) {
    const qs = params ? "?" + new URLSearchParams(params).toString() : "";
    const init = body ? { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) } : {};
    const r = await fetch(path + qs, init);
    const data = await r.json();
    if (!r.ok) throw new Error(data.error || r.statusText);
    return data;
  }

  function model() {
    return $("model").value || "0";
  }

  function option(select, value, label) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    select.appendChild(o);
  }

  // An action clears the last error when it starts (not when some request succeeds: a
  // completion answered late must not wipe the error of the submit that came after it).
  function run(fn) {
    return (ev) => {
      if (ev) ev.preventDefault();
      showError("");
      fn().catch((e) => showError(e.message));
    };
  }

  // ---------------------------------------------------------------- tabs
  for (const b of document.querySelectorAll("#tabs button")) {
    b.addEventListener("click", () => {
      for (const x of document.querySelectorAll("#tabs button")) x.classList.toggle("active", x === b);
      for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== "tab-" + b.dataset.tab;
    });
  }

  // ----------------------------------------------------------- completion
  let completeTimer = null;
  function completion(input) {
    input.addEventListener("input", () => {
      clearTimeout(completeTimer);
      const prefix = input.value.trim();
      if (!prefix) return;
      completeTimer = setTimeout(async () => {
        try {
          const r = await api("/api/complete", { prefix: prefix, limit: 10, model: model() });
          const list = $("vocab");
          C.clear(list);
          for (const w of r.words) option(list, w, w);
        } catch (e) { /* completion is a convenience; errors show on submit */ }
      }, 80);
    });
  }
  for (const id of ["nb-word", "an-a", "an-b", "an-c", "map-word", "lim-w1", "lim-w2"]) completion($(id));

  // ----------------------------------------------------------- neighbours
  $("nb-form").addEventListener("submit", run(async () => {
    const r = await api("/api/neighbours", { word: $("nb-word").value, topn: $("nb-topn").value });
    const out = $("nb-results");
    C.clear(out);
    const shared = new Set(r.overlap ? r.overlap.shared : []);
    for (const m of r.models) {
      const col = document.createElement("div");
      col.className = "model-list";
      const h = document.createElement("h3");
      h.textContent = m.model + (m.in_vocab === false ? " (unseen word: from its n-grams)" : "");
      col.appendChild(h);
      if (m.error) {
        const p = document.createElement("p");
        p.className = "note";
        p.textContent = m.error;
        col.appendChild(p);
      } else {
        const svg = C.el("svg", { class: "chart nb-chart" }, col);
        C.bars(svg, m.neighbours.map(([w, s]) => ({ label: w, value: s, highlight: shared.has(w) })), { lo: 0, hi: 1 });
        const ol = document.createElement("ol");
        ol.className = "nb-words";
        ol.hidden = true;  // the plain list, for copying and for tests
        for (const [w] of m.neighbours) {
          const li = document.createElement("li");
          li.textContent = w;
          ol.appendChild(li);
        }
        col.appendChild(ol);
      }
      out.appendChild(col);
    }
    $("nb-overlap").textContent = r.overlap
      ? `overlap: ${r.overlap.count} of ${$("nb-topn").value} neighbours shared (Jaccard ${r.overlap.jaccard === null ? "-" : r.overlap.jaccard.toFixed(2)}), shown in orange`
      : "";
  }));

  // ------------------------------------------------------------ analogies
  $("an-form").addEventListener("submit", run(async () => {
    const r = await api("/api/analogy", { a: $("an-a").value, b: $("an-b").value, c: $("an-c").value,
                                          method: $("an-method").value, topn: 10, model: model() });
    $("an-answer").textContent = r.answers.length ? r.answers[0][0] : "(none)";
    C.bars($("an-chart"), r.answers.map(([w, s]) => ({ label: w, value: s })),
           { title: `${r.question[0]} : ${r.question[1]} :: ${r.question[2]} : ?  (${r.method === "add" ? "3CosAdd" : "3CosMul"})` });
  }));

  // ------------------------------------------------------------------ map
  function mapMode() {
    const mode = $("map-mode").value;
    $("map-word").hidden = mode !== "neighbours";
    $("map-words").hidden = mode !== "words";
  }
  $("map-mode").addEventListener("change", mapMode);

  function hover(p, x, y) {
    const tip = $("map-tip");
    if (!p) { tip.hidden = true; return; }
    tip.textContent = p.word;
    tip.style.left = (x + 10) + "px";
    tip.style.top = (y - 28) + "px";
    tip.hidden = false;
  }

  async function drawMap() {
    const mode = $("map-mode").value;
    const body = { mode: mode, method: $("map-method").value, n: +$("map-n").value, model: +model() };
    if (mode === "neighbours") body.word = $("map-word").value;
    if (mode === "words") body.words = $("map-words").value.split(/\s+/).filter((w) => w);
    const r = await api("/api/map", null, body);
    mapPoints = r.points;
    let caption = r.method.toUpperCase();
    if (r.explained_variance) caption += ` (explained variance ${r.explained_variance.map((v) => (100 * v).toFixed(1) + "%").join(", ")})`;
    if (r.implementation) caption += ` (${r.implementation})`;
    C.scatter($("map-svg"), r.points, {
      caption: caption, onHover: hover,
      onClick: (p) => { $("map-mode").value = "neighbours"; mapMode(); $("map-word").value = p.word; showError(""); drawMap().catch((e) => showError(e.message)); },
    });
    $("map-note").textContent = `${r.points.length} points` + (r.missing.length ? `; not in the vocabulary: ${r.missing.join(" ")}` : "") +
      ". Hover a point to see its word; click it to centre the map on it.";
  }
  $("map-form").addEventListener("submit", run(drawMap));
  $("map-png").addEventListener("click", () => C.savePNG($("map-svg"), "firth-map.png"));
  $("map-svg-save").addEventListener("click", () => C.saveSVG($("map-svg"), "firth-map.svg"));

  // ----------------------------------------------------------------- bias
  $("weat-form").addEventListener("submit", run(async () => {
    const r = await api("/api/weat", { test: $("weat-test").value, model: model() });
    $("weat-effect").textContent = r.effect_size === null ? "-" : r.effect_size.toFixed(3);
    $("weat-p").textContent = r.p_value === null ? "-" : r.p_value.toPrecision(3);
    const miss = Object.entries(r.missing || {}).map(([k, v]) => `${k}: ${v.length}`).join(", ");
    $("weat-note").textContent = `(${r.p_method} p-value; ${r.sets.X} vs ${r.sets.Y}, associated with ${r.sets.A} vs ${r.sets.B}` +
      (miss ? `; words not found ${miss}` : "") + (r.skipped ? `; ${r.skipped}` : "") + ")";
    const groups = [
      { name: r.sets.X, color: "#3b6fd8", items: r.associations.filter((d) => d.set === "X").map((d) => ({ label: d.word, value: d.s })) },
      { name: r.sets.Y, color: "#e8833a", items: r.associations.filter((d) => d.set === "Y").map((d) => ({ label: d.word, value: d.s })) },
    ];
    C.dots($("weat-chart"), groups, { axisLabel: `s(w, A, B): > 0 closer to ${r.sets.A}, < 0 closer to ${r.sets.B}` });
  }));

  $("axis-form").addEventListener("submit", run(async () => {
    const pairs = $("axis-pairs").value.split("\n").map((l) => l.trim().split(/\s+/)).filter((p) => p.length === 2 && p[0]);
    const words = $("axis-words").value.split(/\s+/).filter((w) => w);
    const r = await api("/api/axis", null, { pairs: pairs, words: words, model: +model() });
    const a = r.pairs.map((p) => p[0]).join(", "), b = r.pairs.map((p) => p[1]).join(", ");
    C.bars($("axis-chart"), r.projections.map((d) => ({ label: d.word, value: d.score, color: d.score >= 0 ? "#3b6fd8" : "#e8833a" })),
           { lo: -1, hi: 1, title: `cosine with the axis (${a}) \u2212 (${b})` + (r.missing.length ? `; missing: ${r.missing.join(" ")}` : "") });
  }));

  // --------------------------------------------------------------- limits
  $("lim-form").addEventListener("submit", run(async () => {
    const r = await api("/api/pair", { w1: $("lim-w1").value, w2: $("lim-w2").value, model: model() });
    $("lim-cos").textContent = r.cosine.toFixed(3);
    $("lim-wordnet").textContent = r.wordnet ? `${r.wordnet} in the bundled WordNet lists` : "neither antonyms nor synonyms in the bundled lists";
    const L = r.lists;
    const items = [{ label: `${r.w1} / ${r.w2}`, value: r.cosine, color: "#e8833a" }];
    for (const k of ["antonym", "synonym", "random"]) {
      if (L[k] && L[k].mean !== null) items.push({ label: `mean ${k} pair (${L[k].pairs})`, value: L[k].mean, color: "#3b6fd8" });
    }
    C.bars($("lim-chart"), items, { lo: -0.2, hi: 1, labelWidth: 200, title: "cosine: this pair and WordNet pair lists in this model" });
  }));

  // --------------------------------------------------------------- report
  $("rep-form").addEventListener("submit", run(async () => {
    $("rep-note").textContent = "running (the analogy set takes a few seconds)\u2026";
    const r = await api("/api/report", { model: model() });
    const sim = Object.entries(r.similarity).map(([k, v]) => ({ label: `${k} (${(100 * v.coverage).toFixed(0)}% pairs)`,
                                                                  value: v.spearman === null ? 0 : v.spearman }));
    C.bars($("rep-sim"), sim, { lo: -0.2, hi: 1, labelWidth: 200, title: "word similarity: Spearman \u03c1 (cosine vs human scores)" });
    const an = [];
    for (const part of ["semantic", "syntactic", "total"]) {
      for (const m of ["add", "mul"]) {
        const s = r.analogies[part][m];
        if (s) an.push({ label: `${part} ${m === "add" ? "3CosAdd" : "3CosMul"}`, value: s.accuracy === null ? 0 : s.accuracy });
      }
    }
    C.bars($("rep-an"), an, { lo: 0, hi: 1, labelWidth: 200, title: `Google analogies: accuracy over answered questions (${r.restrict.toLocaleString()} most frequent words)` });
    $("rep-note").textContent = `model ${r.model}`;
  }));

  // ---------------------------------------------------------------- start
  async function start() {
    info = await api("/api/info");
    const models = $("models");
    models.textContent = info.models.map((m) => `${m.name}: ${m.words.toLocaleString()} words \u00d7 ${m.dim}` + (m.fasttext ? " (fastText)" : "")).join("   |   ");
    info.models.forEach((m, i) => option($("model"), String(i), m.name));
    $("model-pick").hidden = info.models.length < 2;
    for (const m of info.map_methods) option($("map-method"), m, m === "pca" ? "PCA" : m === "tsne" ? "t-SNE" : "UMAP");
    for (const t of info.weat_tests) option($("weat-test"), t.id, `${t.id}: ${t.name}`);
    document.body.dataset.ready = "1";
  }
  start().catch((e) => showError(e.message));
})();

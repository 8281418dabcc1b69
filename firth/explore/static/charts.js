// Hand-written SVG charts. Every word reaches the page through textContent or a setAttribute
// value, never through innerHTML, so a word that looks like markup stays text.
// Styles are attributes (not CSS classes) so a saved SVG/PNG looks like the page.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const FONT = "system-ui, sans-serif";

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (parent) parent.appendChild(e);
    return e;
  }

  function text(parent, x, y, s, attrs) {
    const t = el("text", Object.assign({ x: x, y: y, "font-family": FONT, "font-size": 12, fill: "#1d2330" }, attrs || {}), parent);
    t.textContent = s;
    return t;
  }

  function clear(svg) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
  }

  function clip(s, n) {
    s = String(s);
    return s.length > n ? s.slice(0, n - 1) + "\u2026" : s;
  }

  // Horizontal bars: items = [{label, value, highlight}], values in [lo, hi].
  function bars(svg, items, opts) {
    opts = opts || {};
    clear(svg);
    const lo = opts.lo !== undefined ? opts.lo : Math.min(0, ...items.map((d) => d.value));
    const hi = opts.hi !== undefined ? opts.hi : Math.max(0, ...items.map((d) => d.value));
    const labelW = opts.labelWidth || 150, barW = opts.width || 320, rowH = 22, top = opts.title ? 24 : 6;
    const W = labelW + barW + 70, H = top + rowH * items.length + 8;
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    el("rect", { x: 0, y: 0, width: W, height: H, fill: "#ffffff" }, svg);
    if (opts.title) text(svg, 4, 16, opts.title, { "font-weight": 600 });
    const scale = (v) => labelW + ((v - lo) / ((hi - lo) || 1)) * barW;
    const zero = scale(Math.max(lo, Math.min(hi, 0)));
    items.forEach((d, i) => {
      const y = top + i * rowH;
      const g = el("g", { class: "bar" }, svg);
      text(g, labelW - 6, y + 15, clip(d.label, 24), { "text-anchor": "end", class: "label" });
      const x1 = scale(Math.max(lo, Math.min(hi, d.value)));
      const color = d.color || (d.highlight ? "#e8833a" : "#3b6fd8");
      el("rect", { x: Math.min(zero, x1), y: y + 4, width: Math.max(1, Math.abs(x1 - zero)), height: rowH - 8, fill: color }, g);
      text(g, Math.max(zero, x1) + 4, y + 15, d.valueText !== undefined ? d.valueText : d.value.toFixed(3), { class: "value", fill: "#5b6472" });
      const tip = el("title", {}, g);
      tip.textContent = `${d.label}: ${d.value}`;
    });
    el("line", { x1: zero, x2: zero, y1: top, y2: H - 6, stroke: "#98a2b3" }, svg);
  }

  // Scatter of labelled points; onClick(point) when a point is clicked.
  function scatter(svg, points, opts) {
    opts = opts || {};
    clear(svg);
    const W = +svg.getAttribute("width") || 900, H = +svg.getAttribute("height") || 560, pad = 40;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    el("rect", { x: 0, y: 0, width: W, height: H, fill: "#ffffff" }, svg);
    const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    const sx = (v) => pad + ((v - x0) / ((x1 - x0) || 1)) * (W - 2 * pad);
    const sy = (v) => H - pad - ((v - y0) / ((y1 - y0) || 1)) * (H - 2 * pad);
    const labels = points.length <= (opts.maxLabels || 150);
    const g = el("g", { class: "points" }, svg);
    points.forEach((p) => {
      const cx = sx(p.x), cy = sy(p.y);
      const c = el("circle", { cx: cx, cy: cy, r: p.center ? 6 : 4, fill: p.center ? "#e8833a" : "#3b6fd8",
                               "fill-opacity": 0.85, class: "pt", cursor: "pointer" }, g);
      c.dataset.word = p.word;
      const t = el("title", {}, c);
      t.textContent = p.word;
      if (labels) text(g, cx + 6, cy - 5, clip(p.word, 30), { "font-size": 11, class: "pt-label", "pointer-events": "none" });
      if (opts.onHover) {
        c.addEventListener("mouseenter", () => opts.onHover(p, cx, cy));
        c.addEventListener("mouseleave", () => opts.onHover(null));
      }
      if (opts.onClick) c.addEventListener("click", () => opts.onClick(p));
    });
    if (opts.caption) text(svg, 8, H - 10, opts.caption, { fill: "#5b6472", "font-size": 11 });
  }

  // Dots on one axis, one row per group: groups = [{name, color, items: [{label, value}]}].
  function dots(svg, groups, opts) {
    opts = opts || {};
    clear(svg);
    const all = groups.flatMap((g) => g.items.map((d) => d.value));
    const lo = Math.min(0, ...all), hi = Math.max(0, ...all);
    const W = 820, left = 170, right = 30, rowH = 70, top = 20, H = top + rowH * groups.length + 30;
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    el("rect", { x: 0, y: 0, width: W, height: H, fill: "#ffffff" }, svg);
    const sx = (v) => left + ((v - lo) / ((hi - lo) || 1)) * (W - left - right);
    el("line", { x1: sx(0), x2: sx(0), y1: top - 8, y2: H - 24, stroke: "#98a2b3", "stroke-dasharray": "3 3" }, svg);
    groups.forEach((grp, gi) => {
      const y = top + gi * rowH + rowH / 2;
      text(svg, left - 10, y + 4, clip(grp.name, 26), { "text-anchor": "end", "font-weight": 600 });
      el("line", { x1: left, x2: W - right, y1: y, y2: y, stroke: "#e4e7ec" }, svg);
      grp.items.forEach((d, i) => {
        const c = el("circle", { cx: sx(d.value), cy: y, r: 5, fill: grp.color, "fill-opacity": 0.75, class: "dot" }, svg);
        const t = el("title", {}, c);
        t.textContent = `${d.label}: ${d.value.toFixed(3)}`;
        text(svg, sx(d.value), y + (i % 2 ? 20 : -10), clip(d.label, 14), { "font-size": 10, "text-anchor": "middle", fill: "#5b6472" });
      });
    });
    text(svg, sx(lo), H - 8, lo.toFixed(2), { "font-size": 11 });
    text(svg, sx(hi), H - 8, hi.toFixed(2), { "font-size": 11, "text-anchor": "end" });
    if (opts.axisLabel) text(svg, (left + W - right) / 2, H - 8, opts.axisLabel, { "font-size": 11, "text-anchor": "middle", fill: "#5b6472" });
  }

  function svgString(svg) {
    const copy = svg.cloneNode(true);
    copy.setAttribute("xmlns", NS);
    return new XMLSerializer().serializeToString(copy);
  }

  function download(blob, name) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  function saveSVG(svg, name) {
    download(new Blob([svgString(svg)], { type: "image/svg+xml" }), name);
  }

  function savePNG(svg, name) {
    const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
    const img = new Image();
    const url = URL.createObjectURL(new Blob([svgString(svg)], { type: "image/svg+xml" }));
    img.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = W * 2;
      canvas.height = H * 2;
      const ctx = canvas.getContext("2d");
      ctx.scale(2, 2);
      ctx.drawImage(img, 0, 0, W, H);
      URL.revokeObjectURL(url);
      canvas.toBlob((b) => download(b, name), "image/png");
    };
    img.src = url;
  }

  window.FirthCharts = { bars, scatter, dots, saveSVG, savePNG, clear, text, el };
})();

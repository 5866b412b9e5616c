/* Babelscope's map renderer: a million points in WebGL from 6 bytes each. Written for Babelscope,
   no dependencies, nothing fetched: it ships inside the page (gr.HTML js_on_load), and bench/map.py
   loads this same file.

   Points: x, y as uint16 (normalised to 0..1 by WebGL itself), one language and one cluster code
   each (uint8 or uint16), as backend/map_points.py writes them. Colours come from the palette the
   payload carries. Hover text is asked for (``callbacks.hover(i)``) when the cursor rests on a
   point; a uniform grid over the uint16 space finds that point without scanning all of them.
   Overlays (translation lines, marked points, a placed sentence and its neighbours, density
   contours, the selection box) are drawn on a 2-D canvas above the WebGL one.
   Every string reaches the page through textContent, never innerHTML. */
(function () {
  "use strict";
  if (window.BabelscopeMap) return;

  const VERTEX = `
    attribute float a_x;
    attribute float a_y;
    attribute vec4 a_colour;
    uniform vec4 u_view;
    uniform float u_size;
    varying vec4 v_colour;
    void main() {
      gl_Position = vec4(a_x * u_view.x + u_view.z, a_y * u_view.y + u_view.w, 0.0, 1.0);
      gl_PointSize = u_size;
      v_colour = a_colour;
    }`;
  const FRAGMENT = `
    precision mediump float;
    varying vec4 v_colour;
    void main() {
      vec2 d = gl_PointCoord - 0.5;
      if (dot(d, d) > 0.25) discard;
      gl_FragColor = v_colour;
    }`;
  const CELLS = 256; // the hover grid: 256 x 256 cells over the uint16 space
  const ALPHA = 204, DIM_ALPHA = 18, UNSURE_ALPHA = 64; // an uncertain language label is drawn faded

  function decode(payload) {
    const raw = atob(payload.data);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    const n = payload.n, buf = bytes.buffer;
    const Lang = payload.lang_bytes === 1 ? Uint8Array : Uint16Array;
    const Cluster = payload.cluster_bytes === 1 ? Uint8Array : Uint16Array;
    // copies where an offset is not aligned for its type
    const view = (Type, offset) => offset % Type.BYTES_PER_ELEMENT === 0
      ? new Type(buf, offset, n) : new Type(buf.slice(offset, offset + n * Type.BYTES_PER_ELEMENT));
    // ``uncertain``: one bit a point (numpy packbits order), set where language ID was not sure
    let unsure = null;
    if (payload.uncertain) {
      const bits = atob(payload.uncertain);
      unsure = new Uint8Array(n);
      for (let i = 0; i < n; i++) unsure[i] = (bits.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
    }
    return {
      n, bytes, unsure,
      x: view(Uint16Array, 0), y: view(Uint16Array, 2 * n),
      lang: view(Lang, 4 * n), cluster: view(Cluster, (4 + payload.lang_bytes) * n),
    };
  }

  function hexToRgb(hex) {
    const v = parseInt(hex.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }

  function compile(gl, type, source) {
    const shader = gl.createShader(type);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
    return shader;
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.assign(node, attrs || {});
    if (text !== undefined) node.textContent = text;
    return node;
  }

  class MapView {
    constructor(root, payload, callbacks) {
      this.root = root;
      this.payload = payload;
      this.callbacks = callbacks || {};
      this.points = decode(payload);
      const [x0, x1, y0, y1] = payload.bounds;
      this.bounds = payload.bounds;
      this.extent = [x1 - x0, y1 - y0];
      this.langFilter = new Set();
      this.clusterFilter = -1;
      this.mode = "pan";
      this.overlay = {};
      this.hoverCache = new Map();
      this._build();
      this._grid();
      this.setColours();
      this.resize();
      this.fit();
      this.rendered = this.draw();
    }

    _build() {
      const root = this.root;
      root.replaceChildren();
      root.classList.add("bsmap");
      if (this.payload.title) root.append(el("div", {className: "bsmap-title"}, this.payload.title));
      const bar = el("div", {className: "bsmap-toolbar"});
      const button = (label, title, fn) => {
        const b = el("button", {type: "button", title}, label);
        b.addEventListener("click", fn);
        bar.append(b);
        return b;
      };
      this.panButton = button("Pan / zoom", "Drag to pan, wheel to zoom", () => this.setMode("pan"));
      this.boxButton = button("Box select", "Drag a box: its sentences fill the table below", () => this.setMode("box"));
      button("Reset view", "Show every point", () => { this.fit(); this.draw(); });
      const clusters = el("select", {title: "Show one K-means cluster; dim the rest", className: "bsmap-cluster"});
      clusters.setAttribute("aria-label", "Cluster filter");
      clusters.append(el("option", {value: "-1"}, "All clusters"));
      for (let c = 0; c < this.payload.n_clusters; c++) clusters.append(el("option", {value: String(c)}, `K-means cluster ${c}`));
      clusters.addEventListener("change", () => this.setClusterFilter(parseInt(clusters.value, 10)));
      bar.append(clusters);
      this.status = el("span", {className: "bsmap-status"});
      bar.append(this.status);
      const stage = el("div", {className: "bsmap-stage"});
      this.canvas = el("canvas", {className: "bsmap-gl"});
      this.overlayCanvas = el("canvas", {className: "bsmap-overlay"});
      this.tooltip = el("div", {className: "bsmap-tooltip", role: "tooltip"});
      this.tooltip.style.display = "none";
      stage.append(this.canvas, this.overlayCanvas, this.tooltip);
      this.legend = el("div", {className: "bsmap-legend"});
      this.legend.setAttribute("aria-label", "Languages (click to show only the chosen ones)");
      const body = el("div", {className: "bsmap-body"});
      body.append(stage, this.legend);
      root.append(bar, body);
      this.stage = stage;
      this._legend();
      this.setMode("pan");

      const gl = this.canvas.getContext("webgl", {antialias: false, preserveDrawingBuffer: true, alpha: false});
      if (!gl) throw new Error("This browser has no WebGL: the map cannot be drawn.");
      this.gl = gl;
      const program = gl.createProgram();
      gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
      gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
      gl.linkProgram(program);
      if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program));
      gl.useProgram(program);
      this.program = program;
      const attribute = (name, array, size, type, normalised) => {
        const buffer = gl.createBuffer();
        gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
        gl.bufferData(gl.ARRAY_BUFFER, array, gl.STATIC_DRAW);
        const loc = gl.getAttribLocation(program, name);
        gl.enableVertexAttribArray(loc);
        gl.vertexAttribPointer(loc, size, type, normalised, 0, 0);
        return buffer;
      };
      attribute("a_x", this.points.x, 1, gl.UNSIGNED_SHORT, true);
      attribute("a_y", this.points.y, 1, gl.UNSIGNED_SHORT, true);
      this.colourBuffer = attribute("a_colour", new Uint8Array(4 * this.points.n), 4, gl.UNSIGNED_BYTE, true);
      this.uView = gl.getUniformLocation(program, "u_view");
      this.uSize = gl.getUniformLocation(program, "u_size");
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);

      this._events();
      this._resizeObserver = new ResizeObserver(() => { if (this.resize()) this.draw(); });
      this._resizeObserver.observe(stage);
    }

    _legend() {
      const counts = new Uint32Array(this.payload.languages.length);
      const unsure = new Uint32Array(this.payload.languages.length);
      for (let i = 0; i < this.points.n; i++) {
        counts[this.points.lang[i]]++;
        if (this.points.unsure && this.points.unsure[i]) unsure[this.points.lang[i]]++;
      }
      const order = [...counts.keys()].sort((a, b) => counts[b] - counts[a]);
      const names = this.payload.names || this.payload.languages;
      this.legend.append(el("div", {className: "bsmap-legend-title"}, "Language"));
      this.legendItems = [];
      for (const code of order) {
        const item = el("button", {type: "button", className: "bsmap-legend-item"});
        const swatch = el("span", {className: "bsmap-swatch"});
        swatch.style.background = this.payload.colours[code];
        const doubt = unsure[code] ? `, ${unsure[code].toLocaleString("en")} uncertain` : "";
        item.append(swatch, el("span", {}, `${names[code]} (${counts[code].toLocaleString("en")}${doubt})`));
        item.dataset.code = String(code);
        item.addEventListener("click", () => this.toggleLanguage(code));
        this.legend.append(item);
        this.legendItems.push(item);
      }
    }

    _grid() {
      // counting sort of the points into CELLS x CELLS cells of the uint16 space
      const {n, x, y} = this.points;
      const cellOf = new Uint32Array(n);
      const start = new Uint32Array(CELLS * CELLS + 1);
      for (let i = 0; i < n; i++) {
        const c = (x[i] >> 8) + (y[i] >> 8) * CELLS;
        cellOf[i] = c;
        start[c + 1]++;
      }
      for (let c = 0; c < CELLS * CELLS; c++) start[c + 1] += start[c];
      const fill = start.slice(0, CELLS * CELLS);
      const order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[fill[cellOf[i]]++] = i;
      this.cellStart = start;
      this.cellOrder = order;
    }

    setColours() {
      const {n, lang, cluster, unsure} = this.points;
      const rgb = this.payload.colours.map(hexToRgb);
      const colours = new Uint8Array(4 * n);
      const filtering = this.langFilter.size > 0 || this.clusterFilter >= 0;
      for (let i = 0; i < n; i++) {
        const c = rgb[lang[i]];
        const shown = !filtering || ((this.langFilter.size === 0 || this.langFilter.has(lang[i]))
                                     && (this.clusterFilter < 0 || cluster[i] === this.clusterFilter));
        colours[4 * i] = shown ? c[0] : 190;
        colours[4 * i + 1] = shown ? c[1] : 190;
        colours[4 * i + 2] = shown ? c[2] : 190;
        colours[4 * i + 3] = !shown ? DIM_ALPHA : (unsure && unsure[i] ? UNSURE_ALPHA : ALPHA);
      }
      const gl = this.gl;
      gl.bindBuffer(gl.ARRAY_BUFFER, this.colourBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, colours, gl.STATIC_DRAW);
      for (const item of this.legendItems || []) {
        const code = parseInt(item.dataset.code, 10);
        item.classList.toggle("bsmap-off", this.langFilter.size > 0 && !this.langFilter.has(code));
      }
    }

    toggleLanguage(code) {
      if (this.langFilter.has(code)) this.langFilter.delete(code); else this.langFilter.add(code);
      this.setColours();
      this.draw();
    }

    setLanguageFilter(codes) {
      const index = new Map(this.payload.languages.map((c, i) => [c, i]));
      this.langFilter = new Set(codes.filter(c => index.has(c)).map(c => index.get(c)));
      this.setColours();
      this.draw();
    }

    setClusterFilter(cluster) {
      this.clusterFilter = cluster;
      this.setColours();
      this.draw();
    }

    setMode(mode) {
      this.mode = mode;
      this.panButton.classList.toggle("bsmap-active", mode === "pan");
      this.boxButton.classList.toggle("bsmap-active", mode === "box");
      this.panButton.setAttribute("aria-pressed", String(mode === "pan"));
      this.boxButton.setAttribute("aria-pressed", String(mode === "box"));
    }

    resize() {
      const ratio = window.devicePixelRatio || 1;
      const w = Math.max(1, this.stage.clientWidth), h = Math.max(1, this.stage.clientHeight);
      if (this.width === w && this.height === h) return false;
      this.width = w; this.height = h; this.ratio = ratio;
      for (const canvas of [this.canvas, this.overlayCanvas]) {
        canvas.width = Math.round(w * ratio);
        canvas.height = Math.round(h * ratio);
      }
      return true;
    }

    fit() {
      const margin = 16;
      const [ex, ey] = this.extent;
      this.scale = Math.min((this.width - 2 * margin) / ex, (this.height - 2 * margin) / ey);
      this.tx = (this.width - ex * this.scale) / 2;
      this.ty = (this.height - ey * this.scale) / 2;
    }

    // map coordinates <-> CSS pixels within the stage (y grows upwards in the map)
    toScreen(x, y) {
      return [(x - this.bounds[0]) * this.scale + this.tx, this.height - ((y - this.bounds[2]) * this.scale + this.ty)];
    }

    toMap(px, py) {
      return [(px - this.tx) / this.scale + this.bounds[0], (this.height - py - this.ty) / this.scale + this.bounds[2]];
    }

    pointXY(i) {
      const [x0, , y0] = this.bounds;
      return [x0 + this.points.x[i] / 65535 * this.extent[0], y0 + this.points.y[i] / 65535 * this.extent[1]];
    }

    pointSize() {
      const n = this.points.n;
      const base = n > 300000 ? 2 : n > 30000 ? 3 : n > 3000 ? 5 : 7;
      const zoom = Math.max(1, Math.log2(this.scale / this.fitScale()) + 1);
      return Math.min(base * zoom, 14) * this.ratio;
    }

    fitScale() {
      const [ex, ey] = this.extent;
      return Math.min((this.width - 32) / ex, (this.height - 32) / ey);
    }

    draw() {
      const gl = this.gl;
      gl.viewport(0, 0, this.canvas.width, this.canvas.height);
      gl.clearColor(1, 1, 1, 1);
      gl.clear(gl.COLOR_BUFFER_BIT);
      const [ex, ey] = this.extent;
      gl.uniform4f(this.uView, ex * this.scale * 2 / this.width, ey * this.scale * 2 / this.height,
                   this.tx * 2 / this.width - 1, this.ty * 2 / this.height - 1);
      gl.uniform1f(this.uSize, this.pointSize());
      gl.drawArrays(gl.POINTS, 0, this.points.n);
      this.drawOverlay();
      this.status.textContent = `${this.points.n.toLocaleString("en")} points · ${this.payload.bytes_per_point} bytes a point · WebGL`;
      return true;
    }

    setOverlay(overlay) {
      this.overlay = overlay || {};
      this.drawOverlay();
    }

    drawOverlay() {
      const ctx = this.overlayCanvas.getContext("2d");
      ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
      ctx.clearRect(0, 0, this.width, this.height);
      const o = this.overlay || {};
      const at = i => this.toScreen(...this.pointXY(i));
      if (o.density) {
        ctx.lineWidth = 1.5;
        const index = new Map(this.payload.languages.map((c, i) => [c, i]));
        for (const [lang, lines] of Object.entries(o.density)) {
          ctx.strokeStyle = this.payload.colours[index.get(lang)] || "#444";
          for (const line of lines) {
            ctx.beginPath();
            line.forEach(([x, y], k) => { const [px, py] = this.toScreen(x, y); k ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
            ctx.stroke();
          }
        }
      }
      if (o.lines) {
        ctx.strokeStyle = "rgba(110,110,110,0.5)";
        ctx.lineWidth = 1;
        for (const path of o.lines) {
          ctx.beginPath();
          path.forEach((i, k) => { const [px, py] = at(i); k ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
          ctx.stroke();
        }
      }
      const ring = (px, py, r, colour, width) => {
        ctx.beginPath(); ctx.arc(px, py, r, 0, 2 * Math.PI);
        ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.stroke();
      };
      for (const i of o.marked || []) ring(...at(i), 7, "#000", 2);
      if (o.query) {
        const [qx, qy] = this.toScreen(o.query.x, o.query.y);
        ctx.setLineDash([4, 3]);
        for (const i of o.query.neighbours || []) {
          const [px, py] = at(i);
          ctx.beginPath(); ctx.moveTo(qx, qy); ctx.lineTo(px, py);
          ctx.strokeStyle = "rgba(0,0,0,0.6)"; ctx.lineWidth = 1; ctx.stroke();
          ring(px, py, 6, "#000", 1.5);
        }
        ctx.setLineDash([]);
        ctx.beginPath();  // a star-ish cross for the placed sentence
        ctx.moveTo(qx - 9, qy); ctx.lineTo(qx + 9, qy); ctx.moveTo(qx, qy - 9); ctx.lineTo(qx, qy + 9);
        ctx.strokeStyle = "#000"; ctx.lineWidth = 3; ctx.stroke();
        ring(qx, qy, 6, "#d00", 2.5);
      }
      if (this.box) {
        const [[ax, ay], [bx, by]] = [this.toScreen(this.box[0], this.box[1]), this.toScreen(this.box[2], this.box[3])];
        ctx.fillStyle = "rgba(30,90,200,0.08)";
        ctx.fillRect(Math.min(ax, bx), Math.min(ay, by), Math.abs(bx - ax), Math.abs(by - ay));
        ctx.strokeStyle = "rgba(30,90,200,0.9)"; ctx.lineWidth = 1.5; ctx.setLineDash([5, 3]);
        ctx.strokeRect(Math.min(ax, bx), Math.min(ay, by), Math.abs(bx - ax), Math.abs(by - ay));
        ctx.setLineDash([]);
      }
      if (this.hovered !== undefined && this.hovered >= 0) ring(...at(this.hovered), 6, "#000", 2);
    }

    nearest(px, py, radius) {
      // the point nearest to (px, py) within radius CSS pixels, or -1; via the uint16 grid
      const [mx, my] = this.toMap(px, py);
      const [x0, , y0] = this.bounds;
      const [ex, ey] = this.extent;
      const toQ = (v, o, e) => (v - o) / e * 65535;
      const rx = radius / this.scale / ex * 65535, ry = radius / this.scale / ey * 65535;
      const qx = toQ(mx, x0, ex), qy = toQ(my, y0, ey);
      const cx0 = Math.max(0, Math.floor((qx - rx) / 256)), cx1 = Math.min(CELLS - 1, Math.floor((qx + rx) / 256));
      const cy0 = Math.max(0, Math.floor((qy - ry) / 256)), cy1 = Math.min(CELLS - 1, Math.floor((qy + ry) / 256));
      let best = -1, bestD = Infinity;
      const {x, y} = this.points;
      const sx = this.scale * ex / 65535, sy = this.scale * ey / 65535;
      for (let cy = cy0; cy <= cy1; cy++) {
        for (let cx = cx0; cx <= cx1; cx++) {
          const c = cx + cy * CELLS;
          for (let k = this.cellStart[c]; k < this.cellStart[c + 1]; k++) {
            const i = this.cellOrder[k];
            if (this.colourAlpha(i) === DIM_ALPHA) continue;
            const dx = (x[i] - qx) * sx, dy = (y[i] - qy) * sy;
            const d = dx * dx + dy * dy;
            if (d < bestD) { bestD = d; best = i; }
          }
        }
      }
      return bestD <= radius * radius ? best : -1;
    }

    colourAlpha(i) {
      const filtering = this.langFilter.size > 0 || this.clusterFilter >= 0;
      const {lang, cluster, unsure} = this.points;
      const full = unsure && unsure[i] ? UNSURE_ALPHA : ALPHA;
      if (!filtering) return full;
      const shown = (this.langFilter.size === 0 || this.langFilter.has(lang[i]))
        && (this.clusterFilter < 0 || cluster[i] === this.clusterFilter);
      return shown ? full : DIM_ALPHA;
    }

    async showHover(i, px, py) {
      this.hovered = i;
      this.drawOverlay();
      const tip = this.tooltip;
      if (i < 0) { tip.style.display = "none"; return; }
      tip.style.display = "block";
      tip.style.left = `${Math.min(px + 14, this.width - 260)}px`;
      tip.style.top = `${py + 14}px`;
      const code = this.payload.languages[this.points.lang[i]];
      tip.replaceChildren(el("div", {className: "bsmap-tip-text"}, "…"), el("div", {className: "bsmap-tip-meta"}, code));
      let info = this.hoverCache.get(i);
      if (!info && this.callbacks.hover) {
        try {
          info = await this.callbacks.hover(i);
          this.hoverCache.set(i, info);
        } catch (err) {
          info = {text: String(err && err.message || err), lang: code, id: ""};
        }
      }
      if (this.hovered !== i || !info) return;
      // "fr? (language ID 0.24, uncertain)" where language ID was not sure of the label
      const lang = info.language_uncertain
        ? `${info.lang}? (language ID ${Number(info.language_probability).toFixed(2)}, uncertain)` : info.lang;
      tip.replaceChildren(el("div", {className: "bsmap-tip-text", dir: "auto"}, info.text),
                          el("div", {className: "bsmap-tip-meta"}, `${lang} · ${info.id || "no meaning id"} · point ${i}`));
    }

    _events() {
      const stage = this.stage;
      let drag = null, hoverTimer = null;
      const local = e => { const r = stage.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
      stage.addEventListener("wheel", e => {
        e.preventDefault();
        const [px, py] = local(e);
        const [mx, my] = this.toMap(px, py);
        const factor = Math.exp(-e.deltaY * 0.0015);
        this.scale = Math.min(Math.max(this.scale * factor, this.fitScale() / 4), this.fitScale() * 2000);
        const [sx, sy] = this.toScreen(mx, my);
        this.tx += px - sx;
        this.ty -= py - sy;
        this.draw();
      }, {passive: false});
      stage.addEventListener("mousedown", e => {
        const [px, py] = local(e);
        drag = {px, py, tx: this.tx, ty: this.ty, box: this.mode === "box" || e.shiftKey};
        if (drag.box) { const [mx, my] = this.toMap(px, py); this.box = [mx, my, mx, my]; }
      });
      window.addEventListener("mousemove", e => {
        if (!drag) return;
        const [px, py] = local(e);
        if (drag.box) {
          const [mx, my] = this.toMap(px, py);
          this.box[2] = mx; this.box[3] = my;
          this.drawOverlay();
        } else {
          this.tx = drag.tx + (px - drag.px);
          this.ty = drag.ty - (py - drag.py);
          this.draw();
        }
      });
      window.addEventListener("mouseup", () => {
        if (!drag) return;
        const wasBox = drag.box;
        drag = null;
        if (wasBox && this.box && this.callbacks.box) {
          const [ax, ay, bx, by] = this.box;
          this.callbacks.box([Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by)]);
        }
      });
      stage.addEventListener("mousemove", e => {
        if (drag) return;
        const [px, py] = local(e);
        clearTimeout(hoverTimer);
        hoverTimer = setTimeout(() => this.showHover(this.nearest(px, py, 8), px, py), 60);
      });
      stage.addEventListener("mouseleave", () => { clearTimeout(hoverTimer); this.showHover(-1, 0, 0); });
    }

    destroy() {
      if (this._resizeObserver) this._resizeObserver.disconnect();
      const lose = this.gl && this.gl.getExtension("WEBGL_lose_context");
      if (lose) lose.loseContext();
      this.root.replaceChildren();
    }
  }

  const CSS = `
    .bsmap { display: flex; flex-direction: column; gap: 6px; font-size: 13px; }
    .bsmap-title { font-weight: 600; text-align: center; }
    .bsmap-toolbar { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
    .bsmap-toolbar button, .bsmap-toolbar select { padding: 3px 10px; border: 1px solid #bbb; border-radius: 6px;
      background: #fafafa; cursor: pointer; font: inherit; }
    .bsmap-toolbar button.bsmap-active { background: #dbe6ff; border-color: #5a7bd6; }
    .bsmap-status { margin-left: auto; color: #555; }
    .bsmap-body { display: flex; gap: 8px; }
    .bsmap-stage { position: relative; flex: 1; height: 640px; border: 1px solid #ddd; border-radius: 6px;
      overflow: hidden; background: #fff; cursor: crosshair; user-select: none; }
    .bsmap-stage canvas { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
    .bsmap-overlay { pointer-events: none; }
    .bsmap-tooltip { position: absolute; max-width: 250px; padding: 6px 8px; background: rgba(255,255,255,0.96);
      border: 1px solid #888; border-radius: 4px; pointer-events: none; box-shadow: 0 1px 4px rgba(0,0,0,0.2); }
    .bsmap-tip-meta { color: #555; font-size: 12px; margin-top: 2px; }
    .bsmap-legend { width: 190px; height: 640px; overflow-y: auto; display: flex; flex-direction: column; gap: 1px; }
    .bsmap-legend-title { font-weight: 600; margin-bottom: 4px; }
    .bsmap-legend-item { display: flex; gap: 6px; align-items: center; text-align: left; border: 0; background: none;
      padding: 1px 2px; cursor: pointer; font: inherit; }
    .bsmap-legend-item.bsmap-off { opacity: 0.35; }
    .bsmap-swatch { width: 12px; height: 12px; border-radius: 50%; flex: none; }
    /* a phone: the legend goes under the map, which keeps the whole width */
    @media (max-width: 640px) {
      .bsmap-body { flex-direction: column; }
      .bsmap-stage { flex: none; height: 420px; }
      .bsmap-legend { width: auto; height: auto; max-height: 180px; flex-direction: row; flex-wrap: wrap; gap: 2px 10px; }
      .bsmap-legend-title { width: 100%; }
      .bsmap-status { margin-left: 0; }
    }`;

  function ensureStyle() {
    if (document.getElementById("bsmap-style")) return;
    const style = el("style", {id: "bsmap-style"});
    style.textContent = CSS;
    document.head.append(style);
  }

  window.BabelscopeMap = {
    /* Draw ``payload`` (backend PointPayload.to_dict, plus ``names``) into ``root``.
       callbacks: hover(i) -> Promise<{text, lang, id}>, box([x0, y0, x1, y1]). */
    create(root, payload, callbacks) {
      ensureStyle();
      return new MapView(root, payload, callbacks);
    },
    decode,
  };
})();

// diffuse serve: the page. Plain JavaScript, no libraries, nothing fetched from outside this server.
"use strict";

// A server started with --token answers the API only with "Authorization: Bearer <token>": every API
// call carries the token this tab was given, and a 401 asks for it once and tries again.
{
  const plainFetch = window.fetch.bind(window);
  const withToken = (init) => {
    const token = sessionStorage.getItem("diffuse-token");
    if (!token) return init;
    const headers = new Headers((init && init.headers) || {});
    headers.set("Authorization", "Bearer " + token);
    return Object.assign({}, init, { headers });
  };
  window.fetch = async (url, init) => {
    const api = typeof url === "string" && (url.startsWith("/api/") || url.startsWith("/v1/"));
    if (!api) return plainFetch(url, init);
    let r = await plainFetch(url, withToken(init));
    if (r.status === 401) {
      const token = window.prompt("This server needs its access token:");
      if (token) {
        sessionStorage.setItem("diffuse-token", token.trim());
        r = await plainFetch(url, withToken(init));
      }
    }
    return r;
  };
}

const $ = (id) => document.getElementById(id);
const state = { models: [], current: null, controller: null, timer: null, toyTimer: null, generation: 0 };

function status(el, text, error) {
  el.textContent = text;
  el.classList.toggle("error", !!error);
}

async function loadModels() {
  const r = await fetch("/api/models");
  const body = await r.json();
  state.models = body.models;
  const select = $("model");
  select.innerHTML = "";
  for (const m of body.models.filter((m) => m.kind === "image")) {
    select.add(new Option(m.id + " (" + m.dataset + ")", m.id));
  }
  for (const m of body.models.filter((m) => m.kind === "toy")) {
    $("toy-world").add(new Option(m.id, m.id));
  }
  chooseModel();
}

/** The model's own guidance interval as the interval field writes it ("0.3,5"), or "" for every step. */
function modelInterval(m) {
  const own = m && m.defaults && m.defaults.guidanceInterval;
  return own && own.length === 2 ? own.join(",") : "";
}

/** The model's own guide (its served id), or "none": classifier-free guidance alone. */
function ownGuide(m) {
  return (m && m.defaults && m.defaults.guideModel) || "none";
}

function chooseModel() {
  const m = state.models.find((x) => x.id === $("model").value);
  state.current = m || null;
  const list = $("labels");
  list.innerHTML = "";
  if (!m) return;
  for (const label of m.labels) {
    const o = document.createElement("option");
    o.value = /^[0-9]$/.test(label) ? "digit " + label : label;
    list.appendChild(o);
  }
  // the server's limits and defaults, not the page's literals: a smaller --max-batch lowers n
  $("count").max = m.maxN;
  $("sweep-count").max = m.maxN;
  if (m.defaults && m.defaults.n !== undefined) $("count").value = Math.min(m.defaults.n, m.maxN);
  $("sweep-count").value = Math.min(Number($("sweep-count").value), m.maxN);
  $("steps").max = m.timesteps;
  // each model samples at its own default scale (model.json); restore() sets a recorded one after this
  if (m.defaults && m.defaults.guidance !== undefined) {
    $("guidance").value = m.defaults.guidance;
    $("guidance-value").textContent = $("guidance").value; // what the slider holds (and sends), on its grid
  }
  // and in its own guidance interval, if it has one (empty: every step)
  $("interval").value = modelInterval(m);
  // autoguidance: the other served models that can guide this one
  const guide = $("guide");
  guide.innerHTML = '<option value="none">none (CFG)</option>';
  for (const id of (m.guides || []).filter((g) => g !== m.id)) {
    const o = document.createElement("option");
    o.value = id;
    o.textContent = id;
    guide.appendChild(o);
  }
  // the model's own autoguidance, if it has one (model.json): its guide and blended CFG
  const own = ownGuide(m);
  if (own !== "none" && ![...guide.options].some((o) => o.value === own)) {
    const o = document.createElement("option");
    o.value = own;
    o.textContent = own;
    guide.appendChild(o);
  }
  guide.value = own;
  $("guide-cfg").value = own !== "none" && m.defaults.guideCfg !== undefined ? m.defaults.guideCfg : "";
  $("guide-label").hidden = guide.options.length < 2;
  $("guide-cfg-label").hidden = guide.options.length < 2;
  const panel = $("tradeoff-panel");
  panel.hidden = !m.tradeoff;
  if (m.tradeoff) $("tradeoff").src = m.tradeoff;
}

function request() {
  const body = {
    model: $("model").value,
    prompt: $("prompt").value,
    guidance: Number($("guidance").value),
    sampler: $("sampler").value,
    seed: Number($("seed").value),
    n: Number($("count").value),
  };
  const steps = $("steps").value;
  if (steps !== "") body.steps = Number(steps);
  const negative = $("negative").value.trim();
  if (negative !== "") body.negative = negative;
  const interval = $("interval").value.trim();
  // the model's own interval is left to the server (autoguidance alone has no CFG for it to shape); empty: every
  // step; "lo,hi" → [lo, hi]; anything else goes as typed, for the server to name the field
  if (interval === "" && modelInterval(state.current) !== "") body.guidanceInterval = [];
  else if (interval !== "" && interval.replace(/\s/g, "") !== modelInterval(state.current)) {
    body.guidanceInterval = interval.split(",").map((v) => (v.trim() === "" ? v : Number(v)));
  }
  // the model's own autoguidance (guide, blended CFG and the guide's interval) is left to the server
  const cfg = $("guide-cfg").value.trim();
  const d = (state.current && state.current.defaults) || {};
  const ownCfg = d.guideCfg === undefined ? "" : String(d.guideCfg);
  if ($("guide").value !== ownGuide(state.current) || ($("guide").value !== "none" && cfg !== ownCfg)) {
    body.guideModel = $("guide").value;
    if (body.guideModel !== "none" && cfg !== "") body.guideCfg = Number(cfg);
  }
  return body;
}

function showImages(container, images) {
  container.innerHTML = "";
  for (const src of images) {
    const img = document.createElement("img");
    img.src = src;
    img.className = "sample";
    container.appendChild(img);
  }
}

// Streams one generation: "step" events carry a preview of x̂₀, "result" the images.
async function generate() {
  if (state.controller) state.controller.abort(); // the server sees the disconnect and cancels that work
  const controller = new AbortController();
  state.controller = controller;
  const generation = ++state.generation;
  $("stop").disabled = false;
  try {
    await stream(controller, generation);
  } finally {
    if (state.controller === controller) {
      state.controller = null;
      $("stop").disabled = true;
    }
  }
}

// Stop: closing the stream is the cancel — the server sees the connection close and drops the work,
// queued or running (a merged run stops once nobody waits for it).
function stop() {
  clearTimeout(state.timer); // a slider move that has not drawn yet
  if (!state.controller) return;
  state.controller.abort();
  state.controller = null;
  state.generation++;
  $("stop").disabled = true;
  status($("status"), "stopped");
}

async function stream(controller, generation) {
  const body = request();
  status($("status"), "queued…");
  let response;
  try {
    response = await fetch("/api/generate/stream", { method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" }, signal: controller.signal });
  } catch (e) {
    if (e.name !== "AbortError") status($("status"), "cannot reach the server: " + e, true);
    return;
  }
  if (!response.ok) {
    const err = await response.json();
    status($("status"), err.error + (err.field ? " (" + err.field + ")" : ""), true);
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)[1];
        const data = JSON.parse(/^data: (.*)$/m.exec(frame)[1]);
        if (generation !== state.generation) return;
        onEvent(event, data, body);
      }
    }
  } catch (e) {
    if (e.name !== "AbortError") status($("status"), "stream broken: " + e, true);
  }
}

function onEvent(event, data, body) {
  if (event === "step") {
    $("preview").src = data.preview;
    $("preview").dataset.step = data.step;
    $("preview-caption").textContent = "x̂₀ after step " + data.step + " of " + data.steps;
    status($("status"), "denoising: step " + data.step + " of " + data.steps);
  } else if (event === "result") {
    showImages($("grid"), data.rows[0].images);
    $("preview-caption").textContent = "x̂₀ at the last step: " + data.label + ", s = " + body.guidance;
    const dl = $("download");
    dl.href = data.grid;
    dl.download = "diffuse-" + data.label + "-s" + body.guidance + "-seed" + body.seed + ".png";
    dl.hidden = false;
    const side = $("download-sidecar");
    side.href = URL.createObjectURL(new Blob([JSON.stringify(data.sidecar, null, 2)], { type: "application/json" }));
    side.download = dl.download.replace(/\.png$/, ".json");
    side.hidden = false;
    status($("status"), data.rows[0].images.length + " images of " + data.label + " in " + data.seconds.toFixed(2) + " s");
  } else if (event === "error") {
    status($("status"), data.error + (data.field ? " (" + data.field + ")" : ""), true);
  }
}

async function sweep() {
  const scales = $("sweep-scales").value.split(",").map((s) => Number(s.trim()));
  const body = Object.assign(request(), { guidance: scales, n: Number($("sweep-count").value) });
  status($("sweep-status"), "sweeping " + scales.length + " scales…");
  const r = await fetch("/api/sweep", { method: "POST", body: JSON.stringify(body) });
  const data = await r.json();
  if (!r.ok) {
    status($("sweep-status"), data.error + (data.field ? " (" + data.field + ")" : ""), true);
    return;
  }
  const rows = $("sweep-rows");
  rows.innerHTML = "";
  for (const row of data.rows) {
    const div = document.createElement("div");
    div.className = "row";
    const label = document.createElement("span");
    label.textContent = "s = " + row.guidance;
    div.appendChild(label);
    for (const src of row.images) {
      const img = document.createElement("img");
      img.src = src;
      div.appendChild(img);
    }
    rows.appendChild(div);
  }
  status($("sweep-status"), "sweep of " + data.label + ": same noise in every row");
}

// The two-pixel world: arrows of −ε̃ on a grid, the clean data, and DDIM paths.
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
  "#7f7f7f", "#bcbd22", "#393b79", "#637939"];

async function drawField() {
  const q = new URLSearchParams({ world: $("toy-world").value, classes: $("toy-classes").value,
    class: $("toy-class").value, guidance: $("toy-guidance").value, t: $("toy-t").value,
    paths: $("toy-paths").checked ? 40 : 0 });
  const r = await fetch("/api/toy/field?" + q);
  const f = await r.json();
  if (!r.ok) {
    status($("toy-status"), f.error + (f.field ? " (" + f.field + ")" : ""), true);
    return;
  }
  const c = $("field");
  const g = c.getContext("2d");
  const W = c.width, R = f.range;
  const px = (x) => (x + R) / (2 * R) * W, py = (y) => W - (y + R) / (2 * R) * W;
  g.clearRect(0, 0, W, W);
  for (let k = 0; k < f.pointLabels.length; k++) {
    const lab = f.pointLabels[k];
    g.fillStyle = COLORS[lab % COLORS.length];
    g.globalAlpha = lab === Number($("toy-class").value) ? 0.8 : 0.15;
    g.fillRect(px(f.points[2 * k]) - 1, py(f.points[2 * k + 1]) - 1, 2.5, 2.5);
  }
  g.globalAlpha = 1;
  let max = 1e-9;
  for (let k = 0; k < f.eps.length / 2; k++) max = Math.max(max, Math.hypot(f.eps[2 * k], f.eps[2 * k + 1]));
  const cell = W / f.cells, scale = 0.9 * cell / max;
  g.strokeStyle = "#222";
  g.lineWidth = 1;
  for (let k = 0; k < f.eps.length / 2; k++) {
    const x0 = px(f.grid[2 * k]), y0 = py(f.grid[2 * k + 1]);
    const dx = -f.eps[2 * k] * scale, dy = f.eps[2 * k + 1] * scale;
    arrow(g, x0, y0, x0 + dx, y0 + dy);
  }
  if (f.paths) {
    g.strokeStyle = "rgba(30,30,140,0.35)";
    const steps = f.paths.length, n = f.paths[0].length / 2;
    for (let b = 0; b < n; b++) {
      g.beginPath();
      for (let s = 0; s < steps; s++) {
        const x = px(f.paths[s][2 * b]), y = py(f.paths[s][2 * b + 1]);
        if (s === 0) g.moveTo(x, y); else g.lineTo(x, y);
      }
      g.stroke();
      g.fillStyle = "#000";
      g.fillRect(px(f.paths[steps - 1][2 * b]) - 1.5, py(f.paths[steps - 1][2 * b + 1]) - 1.5, 3, 3);
    }
  }
  status($("toy-status"), f.world + ", t = " + f.t + " (√ᾱ = " + f.sqrtAlphaBar.toFixed(2) + "), s = " + $("toy-guidance").value);
}

function arrow(g, x0, y0, x1, y1) {
  const a = Math.atan2(y1 - y0, x1 - x0), h = Math.min(5, Math.hypot(x1 - x0, y1 - y0) * 0.4);
  g.beginPath();
  g.moveTo(x0, y0); g.lineTo(x1, y1);
  g.lineTo(x1 - h * Math.cos(a - 0.5), y1 - h * Math.sin(a - 0.5));
  g.moveTo(x1, y1);
  g.lineTo(x1 - h * Math.cos(a + 0.5), y1 - h * Math.sin(a + 0.5));
  g.stroke();
}

function later(key, ms, f) {
  clearTimeout(state[key]);
  state[key] = setTimeout(f, ms);
}

// Dropping a PNG that diffuse wrote (a file, or an image dragged from this page) restores the form from
// the settings inside it, as /api/png-info reads them.
async function restore(png, name) {
  const r = await fetch("/api/png-info", { method: "POST", body: png, headers: { "Content-Type": "image/png" } });
  const data = await r.json();
  if (!r.ok || !data.sidecar) {
    status($("status"), r.ok ? name + " has no diffuse settings" : data.error + " (" + data.field + ")", true);
    return;
  }
  const s = data.sidecar, row = s.rows[0], g = s.guidance || {};
  const id = s.model.split(/[\\/]/).pop(); // the server's model id, or a directory's last name
  if (state.models.some((m) => m.kind === "image" && m.id === id)) $("model").value = id;
  chooseModel();
  $("prompt").value = row.prompt;
  $("guidance").value = row.guidance;
  $("guidance-value").textContent = row.guidance;
  $("sampler").value = s.sampler;
  $("steps").value = s.steps;
  $("seed").value = s.seed;
  $("count").value = row.count;
  $("negative").value = g.negative || "";
  $("interval").value = g.interval ? g.interval.join(",") : "";
  const guideId = g.guideModel && g.guideModel !== "none" ? g.guideModel.split(/[\\/]/).pop() : "none";
  $("guide").value = [...$("guide").options].some((o) => o.value === guideId) ? guideId : "none";
  $("guide-cfg").value = $("guide").value !== "none" && g.guideCfg !== undefined && g.guideCfg !== null ? g.guideCfg : "";
  if (s.rows.length > 1) {
    $("sweep-scales").value = [...new Set(s.rows.map((x) => x.guidance))].join(",");
    $("sweep-count").value = row.count;
  }
  status($("status"), "settings of " + name + " restored");
}

document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", async (e) => {
  e.preventDefault();
  const file = e.dataTransfer.files[0];
  const url = e.dataTransfer.getData("text/uri-list");
  try {
    if (file) await restore(file, file.name);
    else if (url.startsWith("data:image/png")) await restore(await (await fetch(url)).blob(), "the image");
  } catch (err) {
    status($("status"), "cannot read the dropped file: " + err, true);
  }
});

$("generate-form").addEventListener("submit", (e) => { e.preventDefault(); generate(); });
$("stop").addEventListener("click", stop);
$("sweep-form").addEventListener("submit", (e) => { e.preventDefault(); sweep(); });
$("model").addEventListener("change", chooseModel);
$("guidance").addEventListener("input", () => {
  $("guidance-value").textContent = $("guidance").value;
  later("timer", 200, generate); // same seed: the same noise, only guidance changes
});
$("sampler").addEventListener("change", () => {
  const m = state.current;
  const steps = m && m.samplerSteps ? m.samplerSteps[$("sampler").value] : undefined;
  if (steps !== undefined) $("steps").value = steps; // the sampler's default steps, as the server publishes them
});
for (const id of ["toy-world", "toy-classes", "toy-class", "toy-guidance", "toy-t", "toy-paths"]) {
  $(id).addEventListener("input", () => {
    $("toy-guidance-value").textContent = $("toy-guidance").value;
    $("toy-t-value").textContent = $("toy-t").value;
    later("toyTimer", 60, drawField);
  });
}
loadModels().then(drawField).catch((e) => status($("status"), "cannot load models: " + e, true));

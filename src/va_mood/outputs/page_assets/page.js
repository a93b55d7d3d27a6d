// va_mood's page: the controls around the Bokeh plane. Every text that comes from the songs
// (titles, artists, paths) enters the document as text (textContent, Bokeh's tooltips), never
// as markup.
window.vaMood = (function () {
  "use strict";
  let D = null;
  let m = null; // the Bokeh models: songs, filter, current, path, strip
  const on = [true, true, true, true];
  let query = "";
  let haystack = [];
  let shown = [];
  let current = -1;

  const $ = (id) => document.getElementById(id);
  const fmt = (v) => (v === null || v === undefined ? "–" : v.toFixed(2));

  function columns() {
    const meta = D.meta;
    const n = D.x.length;
    const out = { x: D.x, y: D.y, colour: [], title: D.title, artist: [], mood: [], coords: [],
                  conf: [], probs: [], path: D.path };
    for (let i = 0; i < n; i++) {
      out.colour.push(meta.colours[D.q[i]]);
      out.artist.push(D.artist[i] || "–");
      out.mood.push(meta.quadrants[D.q[i]] + " " + meta.moods[D.q[i]]);
      out.coords.push(meta.xname + " " + fmt(D.x[i]) + ", " + meta.yname + " " + fmt(D.y[i]));
      out.conf.push(meta.xname + " " + fmt(D.vc[i]) + ", " + meta.yname + " " + fmt(D.ac[i]));
      out.probs.push(D.p ? meta.moods.map((name, k) => name + " " + fmt(D.p[k][i])).join(", ")
                         : "");
    }
    return out;
  }

  function moodControls() {
    const box = $("moods");
    const select = $("export-mood");
    D.meta.moods.forEach((name, k) => {
      const label = document.createElement("label");
      const check = document.createElement("input");
      check.type = "checkbox";
      check.checked = true;
      check.dataset.mood = name;
      check.addEventListener("change", () => { on[k] = check.checked; update(); });
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = D.meta.colours[k];
      const text = document.createElement("span");
      text.textContent = D.meta.quadrants[k] + " " + name;
      const count = document.createElement("span");
      count.className = "count";
      count.id = "count-" + name;
      label.append(check, swatch, text, count);
      box.append(label);
      const option = document.createElement("option");
      option.value = String(k);
      option.textContent = name;
      select.append(option);
    });
  }

  function update() {
    const n = D.x.length;
    const total = [0, 0, 0, 0];
    const visible = [0, 0, 0, 0];
    shown = new Array(n);
    for (let i = 0; i < n; i++) {
      const q = D.q[i];
      total[q] += 1;
      shown[i] = on[q] && (query === "" || haystack[i].includes(query));
      if (shown[i]) visible[q] += 1;
    }
    m.filter.booleans = shown;
    D.meta.moods.forEach((name, k) => {
      $("count-" + name).textContent = visible[k] + " / " + total[k];
    });
    const all = visible.reduce((a, b) => a + b, 0);
    $("summary").textContent = all + " of " + n + " songs shown";
    const kept = m.songs.selected.indices.filter((i) => shown[i]);
    if (kept.length !== m.songs.selected.indices.length) m.songs.selected.indices = kept;
    selected();
  }

  function chosen() {
    return m.songs.selected.indices.filter((i) => shown[i]).sort((a, b) => a - b);
  }

  function selected() {
    if (!m) return;
    const rows = chosen();
    $("selection").textContent = rows.length
      ? rows.length + " song(s) selected"
      : "Nothing selected: drag a box or a lasso over the plane.";
    $("export-selection").disabled = rows.length === 0;
    $("clear-selection").disabled = rows.length === 0;
  }

  function download(rows, name) {
    const entries = D.entry || D.path;
    const text = ["#EXTM3U", ...rows.map((i) => entries[i])].join("\n") + "\n";
    const blob = new Blob([text], { type: "audio/x-mpegurl" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name + ".m3u8";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  function exportMood() {
    const k = Number($("export-mood").value);
    const rows = [];
    for (let i = 0; i < D.x.length; i++) if (D.q[i] === k) rows.push(i);
    if (rows.length) download(rows, D.meta.moods[k].toLowerCase());
  }

  function play(i) {
    current = i;
    const player = $("player");
    player.src = D.url[i];
    $("now-error").textContent = "";
    player.play().catch(() => {});
    $("now-title").textContent = D.title[i] + (D.artist[i] ? " — " + D.artist[i] : "");
    m.current.data = { x: [D.x[i]], y: [D.y[i]] };
    const windows = D.seg[String(i)] || [];
    m.path.data = {
      x: windows.map((w) => w[2]), y: windows.map((w) => w[3]),
      colour: windows.map((w) => D.meta.colours[w[4]]),
    };
    m.strip.data = {
      start: windows.map((w) => w[0]), end: windows.map((w) => w[1]),
      colour: windows.map((w) => D.meta.colours[w[4]]),
      mood: windows.map((w) => D.meta.moods[w[4]]),
      when: windows.map((w) => w[0].toFixed(1) + "–" + w[1].toFixed(1) + " s"),
    };
    if (windows.length) {
      m.strip_range.start = windows[0][0];
      m.strip_range.end = windows[windows.length - 1][1];
    }
    const title = $("timeline-title");
    if (title) {
      title.textContent = windows.length
        ? "Moods over time: " + D.title[i]
        : "No segment predictions for " + D.title[i];
    }
  }

  function tapped(tool, data) {
    const hits = data && data.source ? data.source.inspected.indices : [];
    const rows = hits.filter((i) => shown[i]);
    if (rows.length) play(rows[0]);
  }

  function start(models) {
    m = models;
    D = JSON.parse($("va-mood-data").textContent);
    haystack = D.title.map((t, i) => (t + "\n" + D.artist[i] + "\n" + D.path[i]).toLowerCase());
    m.songs.data = columns();
    moodControls();
    let typing = null; // redraw once typing pauses, not on every key
    $("search").addEventListener("input", (e) => {
      clearTimeout(typing);
      typing = setTimeout(() => {
        query = e.target.value.trim().toLowerCase();
        update();
      }, 150);
    });
    $("export-selection").addEventListener("click", () => download(chosen(), "selection"));
    $("clear-selection").addEventListener("click", () => { m.songs.selected.indices = []; });
    $("export-mood-button").addEventListener("click", exportMood);
    $("player").addEventListener("error", () => {
      if (current >= 0) $("now-error").textContent = "Cannot play " + D.path[current];
    });
    update();
    requestAnimationFrame(() => {
      api.readyAt = performance.now();
      document.body.dataset.ready = "true";
    });
  }

  const api = { start, tapped, selected, play, readyAt: null,
                current: () => current, shown: () => shown.filter(Boolean).length };
  return api;
})();

// The live page: polls the REST API and redraws counts, the event stream and rejected messages.
"use strict";
let lastSeq = 0;
const stream = [];

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}

function bars(id, counts) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren();
  const entries = Object.entries(counts);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  for (const [name, n] of entries) {
    const tr = document.createElement("tr");
    tr.appendChild(cell(name));
    const bar = cell("", "bar");
    const fill = document.createElement("div");
    fill.className = "fill";
    fill.style.width = `${(100 * n) / max}%`;
    bar.appendChild(fill);
    tr.appendChild(bar);
    tr.appendChild(cell(n.toLocaleString(), "n"));
    body.appendChild(tr);
  }
}

async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}

async function refresh() {
  const [stats, events, rejected] = await Promise.all([
    getJSON("/api/stats"),
    getJSON(`/api/events?after_seq=${lastSeq}&limit=50`),
    getJSON("/api/rejected?limit=20"),
  ]);
  document.getElementById("total-events").textContent = stats.events.toLocaleString();
  document.getElementById("total-rejected").textContent = stats.rejected.toLocaleString();
  document.getElementById("total-channels").textContent = Object.keys(stats.by_channel).length;
  document.getElementById("updated").textContent = new Date().toLocaleTimeString();
  bars("by-channel", stats.by_channel);
  bars("by-type", stats.by_type);
  bars("by-event", stats.by_event);

  for (const e of events.reverse()) {
    stream.unshift(e);
    lastSeq = Math.max(lastSeq, e.seq);
  }
  stream.length = Math.min(stream.length, 50);
  const body = document.querySelector("#stream tbody");
  body.replaceChildren();
  for (const e of stream) {
    const tr = document.createElement("tr");
    tr.append(cell(e.seq), cell(e.timestamp), cell(e.type), cell(e.event), cell(e.channel),
      cell(e.user_id || e.anonymous_id));
    body.appendChild(tr);
  }

  const rbody = document.querySelector("#rejected tbody");
  rbody.replaceChildren();
  for (const r of rejected) {
    const tr = document.createElement("tr");
    const payload = cell("");
    const code = document.createElement("code");
    code.textContent = r.payload.length > 300 ? r.payload.slice(0, 300) + "…" : r.payload;
    payload.appendChild(code);
    tr.append(cell(r.received_at), cell(r.reason, "reason"), payload);
    rbody.appendChild(tr);
  }
}

async function listMaps() {
  const maps = await getJSON("/api/maps");
  const list = document.getElementById("maps");
  list.replaceChildren();
  for (const m of maps) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = `/maps/${encodeURIComponent(m.name)}`;
    a.textContent = m.title || m.name;
    const kind = document.createElement("span");
    kind.className = "hint";
    kind.textContent = ` ${m.type.replaceAll("_", " ")} · ${m.origin}`;
    li.append(a, kind);
    list.appendChild(li);
  }
}

async function loop() {
  try {
    await refresh();
  } catch (err) {
    document.getElementById("updated").textContent = "offline";
  }
  setTimeout(loop, 2000);
}
listMaps().catch(() => {});
loop();

// The dashboard: signs in with a business key (kept in sessionStorage, sent
// as a bearer token), reads GET /v1/metrics/summary for the chosen range and
// shows it. Every figure element names its source with data-metric (a path
// into the summary) and carries the raw value in data-value.
"use strict";

const KEY = "switchboard.key";
const $ = (id) => document.getElementById(id);
const charts = {};
let timer = null;
let loads = 0;

function pad(n) { return String(n).padStart(2, "0"); }
function dateInput(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }
// A date input's day as local midnight.
function localMidnight(value) {
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d);
}

function defaultRange() {
  const today = new Date();
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 6);
  $("from").value = dateInput(from);
  $("to").value = dateInput(today);
}

function resolve(obj, path) {
  let values = [obj];
  for (const part of path.split(".")) {
    const next = [];
    for (const v of values) {
      if (v == null) { next.push(undefined); continue; }
      if (part === "*") { if (Array.isArray(v)) next.push(...v); continue; }
      next.push(v[part]);
    }
    values = next;
  }
  return path.includes("*") ? values : values[0];
}

const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

function money(list) {
  if (!Array.isArray(list) || list.length === 0) return "0";
  return list.map((m) => moneyOne(m.amount_cents, m.currency)).join(" + ");
}
function moneyOne(cents, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(cents / 100);
  } catch (e) {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}
function duration(s) {
  if (s == null) return "–";
  if (s < 60) return `${number.format(s)} s`;
  if (s < 3600) return `${number.format(s / 60)} min`;
  return `${number.format(s / 3600)} h`;
}

function format(value, kind) {
  switch (kind) {
    case "duration": return duration(value);
    case "percent": return value == null ? "–" : `${number.format(value * 100)}%`;
    case "money": return money(value);
    case "revenue": return (value || []).map((c) => moneyOne(c.revenue_cents, c.currency)).join(", ") || "–";
    case "spend": return (value || []).map((c) => moneyOne(c.spend_cents, c.currency)).join(", ") || "–";
    case "roas": return (value || []).map((c) => (c.roas == null ? "–" : number.format(c.roas) + "×")).join(", ") || "–";
    default: return value == null ? "–" : number.format(value);
  }
}

function fill(el, summary) {
  let value = resolve(summary, el.dataset.metric);
  if (el.dataset.format === "sum") value = (value || []).reduce((a, b) => a + (b || 0), 0);
  el.dataset.value = JSON.stringify(value === undefined ? null : value);
  el.textContent = format(value, el.dataset.format === "sum" ? "" : el.dataset.format);
}

function cell(tag, path, fmt, numeric) {
  const el = document.createElement(tag);
  el.dataset.metric = path;
  if (fmt) el.dataset.format = fmt;
  if (numeric) el.className = "num";
  return el;
}

function renderQueues(summary) {
  const list = $("queues");
  list.replaceChildren();
  (summary.queues || []).forEach((q, i) => {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = q.name;
    li.append(name, cell("span", `queues.${i}.waiting`));
    list.append(li);
  });
}

function renderAds(summary) {
  const body = $("ads").tBodies[0];
  body.replaceChildren();
  (summary.ads || []).forEach((ad, i) => {
    const tr = document.createElement("tr");
    const name = document.createElement("td");
    name.textContent = ad.name ? `${ad.name} (${ad.ad_id})` : ad.ad_id;
    name.dataset.adId = ad.ad_id;
    const campaign = document.createElement("td");
    campaign.textContent = ad.campaign || "";
    tr.append(name, campaign, cell("td", `ads.${i}.conversations`, "", true), cell("td", `ads.${i}.sales`, "", true),
      cell("td", `ads.${i}.by_currency`, "revenue", true), cell("td", `ads.${i}.by_currency`, "spend", true),
      cell("td", `ads.${i}.by_currency`, "roas", true));
    body.append(tr);
  });
  if (!summary.ads || summary.ads.length === 0) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 7;
    td.className = "hint";
    td.textContent = "No ads registered and no ad clicks in this range.";
    tr.append(td);
    body.append(tr);
  }
}

function bucketLabel(iso, bucket) {
  const d = new Date(iso);
  const day = d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return bucket === "hour" ? `${day} ${pad(d.getHours())}:00` : day;
}

function chart(id, config) {
  if (typeof Chart === "undefined") return;  // the page still shows every figure
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
    plugins: { legend: { position: "bottom" } } }, config.options || {});
  if (charts[id]) {
    charts[id].data = config.data;
    charts[id].update();
  } else {
    charts[id] = new Chart($(id), config);
  }
}

function renderCharts(summary) {
  const series = summary.series || [];
  const labels = series.map((b) => bucketLabel(b.start, summary.bucket));
  const points = series.length > 48 ? 0 : 3;  // a week of hours reads better as a line
  const byChannel = summary.conversations.by_channel;
  chart("chart-channels", { type: "doughnut", data: {
    labels: ["Messenger", "Instagram", "WhatsApp"],
    datasets: [{ data: [byChannel.messenger, byChannel.instagram, byChannel.whatsapp],
      backgroundColor: ["#2563eb", "#c026d3", "#16a34a"] }] } });
  chart("chart-conversations", { type: "bar", data: { labels, datasets: [
    { label: "conversations", data: series.map((b) => b.conversations), backgroundColor: "#93c5fd" },
    { label: "sales", data: series.map((b) => b.sales), backgroundColor: "#16a34a" }] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
  chart("chart-messages", { type: "line", data: { labels, datasets: [
    { label: "in", data: series.map((b) => b.messages_in), borderColor: "#2563eb", tension: 0.2, pointRadius: points },
    { label: "out", data: series.map((b) => b.messages_out), borderColor: "#f59e0b", tension: 0.2, pointRadius: points }] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
  chart("chart-response", { type: "line", data: { labels, datasets: [
    { label: "p50 (s)", data: series.map((b) => b.first_response_p50_s), borderColor: "#7c3aed", spanGaps: true, pointRadius: points }] },
    options: { scales: { y: { beginAtZero: true } } } });
}

function render(summary) {
  renderQueues(summary);
  renderAds(summary);
  document.querySelectorAll("[data-metric]").forEach((el) => fill(el, summary));
  renderCharts(summary);
}

function setStatus(state, text) {
  const s = $("status");
  s.dataset.state = state;
  s.textContent = text;
}

async function load() {
  const key = sessionStorage.getItem(KEY);
  if (!key) return showSignIn();
  const from = localMidnight($("from").value);
  const to = localMidnight($("to").value);
  to.setDate(to.getDate() + 1);  // the "to" day is included
  if (!(from < to)) return setStatus("error", "The range must end after it starts.");
  const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), bucket: $("bucket").value });
  setStatus("loading", "Loading…");
  let response;
  try {
    response = await fetch(`/v1/metrics/summary?${query}`, { headers: { Authorization: `Bearer ${key}` } });
  } catch (e) {
    return setStatus("error", `The server cannot be reached (${e.message}).`);
  }
  const body = await response.json().catch(() => null);
  if (response.status === 401 || response.status === 403) {
    signOut();
    return showSignInError((body && body.error && body.error.message) || "This key is not accepted.");
  }
  if (!response.ok || !body) {
    return setStatus("error", (body && body.error && body.error.message) || `HTTP ${response.status}`);
  }
  const range = $("range");
  range.dataset.from = query.get("from");
  range.dataset.to = query.get("to");
  range.dataset.bucket = query.get("bucket");
  range.textContent = `${new Date(body.from).toLocaleString()} – ${new Date(body.to).toLocaleString()} (business time zone ${body.timezone})`;
  render(body);
  loads += 1;
  $("dashboard").dataset.loads = String(loads);
  setStatus("ready", `Updated ${new Date().toLocaleTimeString()}`);
}

function schedule() {
  if (timer) clearInterval(timer);
  timer = null;
  if ($("auto").checked) timer = setInterval(load, Number($("every").value) * 1000);
}

function showSignIn() {
  $("sign-in").hidden = false;
  $("dashboard").hidden = true;
  $("sign-out").hidden = true;
  if (timer) clearInterval(timer);
  timer = null;
}
function showSignInError(message) {
  showSignIn();
  let p = $("sign-in-error");
  if (!p) {
    p = document.createElement("p");
    p.id = "sign-in-error";
    p.className = "status";
    p.dataset.state = "error";
    $("sign-in").append(p);
  }
  p.textContent = message;
}
function showDashboard() {
  $("sign-in").hidden = true;
  $("dashboard").hidden = false;
  $("sign-out").hidden = false;
  schedule();
  load();
}
function signOut() {
  sessionStorage.removeItem(KEY);
  showSignIn();
}

$("sign-in").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY, $("key").value.trim());
  $("key").value = "";
  const err = $("sign-in-error");
  if (err) err.remove();
  showDashboard();
});
$("sign-out").addEventListener("click", signOut);
$("controls").addEventListener("submit", (e) => { e.preventDefault(); load(); });
for (const id of ["from", "to", "bucket"]) $(id).addEventListener("change", load);
for (const id of ["auto", "every"]) $(id).addEventListener("change", schedule);

defaultRange();
if (sessionStorage.getItem(KEY)) showDashboard(); else showSignIn();

// Helpers shared by the pages: formatting and status colours.
"use strict";

// One colour per node and run status; the graph, badges and timeline all use these.
const STATUS_COLORS = {
  success: "#2e9e4f",
  failed: "#d93a3a",
  running: "#2f7fd8",
  pending: "#b9c0c8",
  skipped: "#e4e7eb",
  input: "#ffffff",
};
window.cayleyStatusColors = STATUS_COLORS;

function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 1e-3) return (seconds * 1e6).toFixed(0) + " µs";
  if (seconds < 1) return (seconds * 1e3).toPrecision(3) + " ms";
  if (seconds < 120) return seconds.toPrecision(3) + " s";
  const minutes = Math.floor(seconds / 60);
  return minutes + " min " + Math.round(seconds - 60 * minutes) + " s";
}

function plural(count, noun) {
  return count + " " + noun + (count === 1 ? "" : "s");
}

function formatTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString();
}

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function statusBadge(status) {
  return element("span", { class: "status " + status, text: status });
}

async function fetchJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.error || response.status + " " + response.statusText);
  }
  return response.json();
}

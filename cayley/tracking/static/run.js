// One run: the graph coloured by status, fan-out groups, the timeline and the errors,
// updated live from server-sent events while the run is in progress.
"use strict";

const runId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
let cy = null;
let current = null;
let selected = null;

const TEXT_ON = { success: "#ffffff", failed: "#ffffff", running: "#ffffff" };

function nodeLabel(node) {
  const lines = [node.name];
  if (node.items) lines.push(node.items.done + "/" + node.items.total + " items");
  if (node.duration_s !== null && node.duration_s !== undefined) lines.push(formatSeconds(node.duration_s));
  return lines.join("\n");
}

function blockLabel(block) {
  const total = block.complete ? String(block.total) : block.total + "+";
  return "fan-out " + block.expander + ": " + block.done + " done · " + block.failed + " failed · " + total + " total";
}

function graphElements(run) {
  const elements = [];
  for (const block of run.blocks) {
    elements.push({
      group: "nodes",
      data: {
        id: "block:" + block.expander,
        kind: "block",
        label: blockLabel(block),
        failed: block.failed > 0,
        parent: block.parent ? "block:" + block.parent : undefined,
      },
    });
  }
  for (const node of run.nodes) {
    elements.push({
      group: "nodes",
      data: {
        id: node.name,
        kind: node.is_input ? "input" : "node",
        status: node.status,
        label: nodeLabel(node),
        parent: node.block ? "block:" + node.block : undefined,
      },
    });
  }
  for (const [source, target] of run.edges) {
    elements.push({ group: "edges", data: { id: source + "\u2192" + target, source: source, target: target } });
  }
  return elements;
}

function labelWidth(ele) {
  const longest = Math.max(...ele.data("label").split("\n").map((line) => line.length));
  return Math.max(60, longest * 7 + 18);
}

function createGraph(run) {
  cy = cytoscape({
    container: document.getElementById("graph"),
    elements: graphElements(run),
    style: [
      {
        selector: "node",
        style: {
          shape: "round-rectangle",
          label: "data(label)",
          "text-wrap": "wrap",
          "text-valign": "center",
          "text-halign": "center",
          "font-size": 11,
          "font-family": "system-ui, sans-serif",
          width: labelWidth,
          height: (ele) => 14 * ele.data("label").split("\n").length + 14,
          "background-color": (ele) => STATUS_COLORS[ele.data("status")] || "#cccccc",
          color: (ele) => TEXT_ON[ele.data("status")] || "#1d2530",
          "border-width": 1,
          "border-color": "#5b6673",
        },
      },
      { selector: "node[kind = 'input']", style: { "border-style": "dashed", shape: "rectangle" } },
      {
        selector: "node[kind = 'block']",
        style: {
          "background-color": "#f3f5fa",
          "background-opacity": 1,
          "border-color": "#8c9bb5",
          "border-style": "dashed",
          "border-width": 2,
          color: "#33415c",
          "text-valign": "top",
          "text-halign": "center",
          "text-margin-y": -4,
          padding: "14px",
        },
      },
      { selector: "node[kind = 'block'][?failed]", style: { "border-color": STATUS_COLORS.failed } },
      {
        selector: "edge",
        style: {
          width: 1.5,
          "curve-style": "bezier",
          "line-color": "#9aa5b1",
          "target-arrow-color": "#9aa5b1",
          "target-arrow-shape": "triangle",
        },
      },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#111111" } },
    ],
    layout: { name: "dagre", rankDir: "LR", nodeSep: 18, rankSep: 60, padding: 16 },
  });
  cy.on("tap", "node[kind != 'block']", (event) => {
    selected = event.target.id();
    showDetails();
  });
  window.cayleyGraph = cy;
}

function updateGraph(run) {
  const wanted = new Set(run.nodes.map((node) => node.name));
  const known = new Set(cy.nodes("[kind != 'block']").map((node) => node.id()));
  const sameNodes = wanted.size === known.size && [...wanted].every((name) => known.has(name));
  if (!sameNodes) {
    cy.elements().remove();
    cy.add(graphElements(run));
    cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 18, rankSep: 60, padding: 16 }).run();
    return;
  }
  cy.batch(() => {
    for (const node of run.nodes) {
      cy.getElementById(node.name).data({ status: node.status, label: nodeLabel(node) });
    }
    for (const block of run.blocks) {
      cy.getElementById("block:" + block.expander).data({ label: blockLabel(block), failed: block.failed > 0 });
    }
  });
}

function renderLegend() {
  const legend = document.getElementById("legend");
  legend.replaceChildren(
    ...Object.entries(STATUS_COLORS).map(([status, color]) =>
      element("span", { class: "legend-item" }, element("i", { style: "background:" + color }), status),
    ),
  );
}

function renderHeader(run) {
  document.title = "cayley run " + run.run_id.slice(0, 8) + " (" + run.status + ")";
  document.getElementById("title").textContent = run.project + " / " + run.run_id;
  const badge = document.getElementById("run-status");
  badge.className = "status " + run.status;
  badge.textContent = run.status;
  const duration = run.duration_s !== null ? formatSeconds(run.duration_s) : "running for " + formatSeconds(run.timeline.duration_s);
  const inputs = Object.entries(run.inputs).map(([name, type]) => name + ": " + type).join(", ");
  document.getElementById("summary").textContent =
    "started " + formatTime(run.started) + " · " + duration + " · outputs " + run.outputs.join(", ") +
    (inputs ? " · inputs " + inputs : "");
  document.body.dataset.runStatus = run.status;
  document.body.dataset.version = String(run.version);
}

function renderErrors(run) {
  const panel = document.getElementById("error-panel");
  const failedNodes = run.nodes.filter((node) => node.error);
  panel.hidden = !run.error && failedNodes.length === 0;
  if (panel.hidden) return;
  const where = document.getElementById("error-where");
  const traceback = document.getElementById("error-traceback");
  if (run.error) {
    const place = [];
    if (run.error.node) place.push("node " + run.error.node);
    if (run.error.item) place.push(run.error.item);
    where.replaceChildren(
      element("strong", { text: run.error.type + ": " + run.error.message }),
      place.length ? " — in " + place.join(", ") : "",
    );
    // The failing node's own traceback shows the user's frames; the run's follows below.
    const origin = run.nodes.find((node) => node.name === run.error.node && node.error);
    traceback.textContent = origin && origin.error.traceback ? origin.error.traceback : run.error.traceback;
  } else {
    where.textContent = "";
    traceback.textContent = "";
  }
  const runTrace = run.error && run.error.traceback
    ? [element("details", { class: "node-error" }, element("summary", { text: "traceback of the run" }), element("pre", { text: run.error.traceback }))]
    : [];
  document.getElementById("node-errors").replaceChildren(
    ...runTrace,
    ...failedNodes.map((node) =>
      element(
        "details",
        { class: "node-error", "data-node": node.name },
        element(
          "summary",
          {},
          "node " + node.name + (node.error.item ? " (" + node.error.item + ")" : "") + " — " + node.error.type + ": " + node.error.message,
        ),
        element("pre", { text: node.error.traceback }),
      ),
    ),
  );
}

function renderBlocks(run) {
  const body = document.querySelector("#blocks tbody");
  body.replaceChildren(
    ...run.blocks.map((block) =>
      element(
        "tr",
        { "data-block": block.expander },
        element("td", { text: block.expander }),
        element("td", { text: block.nodes.join(", ") }),
        element("td", { text: block.done }),
        element("td", { class: block.failed ? "bad" : "", text: block.failed }),
        element("td", { text: block.running }),
        element("td", { text: block.complete ? block.total : block.total + "+" }),
      ),
    ),
  );
  document.getElementById("no-blocks").hidden = run.blocks.length > 0;
  document.getElementById("blocks").hidden = run.blocks.length === 0;
}

function renderTimeline(run) {
  const timeline = run.timeline;
  const total = Math.max(timeline.duration_s, 1e-6);
  const container = document.getElementById("timeline");
  const rows = timeline.workers.map((worker) => {
    const track = element("div", { class: "track" });
    for (const span of worker.spans) {
      const end = span.end_s === null ? timeline.duration_s : span.end_s;
      const bar = element("div", {
        class: "bar " + span.status,
        title: span.label + " — " + formatSeconds(end - span.start_s) + (span.task_id ? " (task " + span.task_id + ")" : ""),
      });
      bar.style.left = (100 * span.start_s) / total + "%";
      bar.style.width = Math.max((100 * (end - span.start_s)) / total, 0.15) + "%";
      bar.style.background = STATUS_COLORS[span.status] || "#999999";
      track.append(bar);
    }
    const shown = worker.spans.length < worker.calls ? ", " + plural(worker.spans.length, "bar") + " shown" : "";
    return element(
      "div",
      { class: "lane" },
      element("div", { class: "lane-label", title: worker.worker }, worker.worker, element("small", {}, plural(worker.calls, "node call") + ", busy " + formatSeconds(worker.busy_s) + shown)),
      track,
    );
  });
  const axis = element("div", { class: "axis" });
  for (let tick = 0; tick <= 4; tick++) {
    const mark = element("span", { text: formatSeconds((total * tick) / 4) || "0" });
    mark.style.left = tick * 25 + "%";
    axis.append(mark);
  }
  container.replaceChildren(...rows, element("div", { class: "lane" }, element("div", { class: "lane-label" }), axis));
}

function histogram(items) {
  const counts = items.histogram || [];
  const peak = Math.max(1, ...counts);
  const bars = element("div", { class: "histogram" });
  counts.forEach((count, bucket) => {
    const bar = element("i", { title: count + " items in [" + formatSeconds(2 ** bucket * 1e-6) + ", " + formatSeconds(2 ** (bucket + 1) * 1e-6) + ")" });
    bar.style.height = (100 * count) / peak + "%";
    bars.append(bar);
  });
  return bars;
}

function showDetails() {
  const panel = document.getElementById("details");
  const node = current && current.nodes.find((candidate) => candidate.name === selected);
  if (!node) return;
  const facts = [
    ["status", statusBadge(node.status)],
    ["type", node.type],
    ["time", formatSeconds(node.duration_s)],
    ["worker", node.worker],
    ["retries", node.retries ? node.retries + " failed attempts ran again" : null],
    ["version", node.version ? node.version.slice(0, 12) : null],
    ["tags", Object.keys(node.tags || {}).length ? JSON.stringify(node.tags) : null],
  ].filter(([, value]) => value !== null && value !== undefined && value !== "");
  const children = [
    element("h3", { text: node.name }),
    element("dl", {}, ...facts.flatMap(([key, value]) => [element("dt", { text: key }), element("dd", {}, value)])),
  ];
  if (node.documentation) children.push(element("p", { class: "doc", text: node.documentation }));
  if (node.items) {
    const items = node.items;
    children.push(
      element("h4", { text: "items" }),
      element(
        "p",
        {},
        items.done + " done, " + items.failed + " failed, " + items.total + " seen" +
          (items.retried ? ", " + items.retried + " retried" : "") + "; " +
          "min " + formatSeconds(items.min_s) + ", max " + formatSeconds(items.max_s) +
          ", mean " + formatSeconds(items.sum_s / Math.max(1, items.done + items.failed)),
      ),
      histogram(items),
    );
    const table = element("table", { class: "items" });
    children.push(table);
    fetchJson("/api/runs/" + encodeURIComponent(runId) + "/nodes/" + encodeURIComponent(node.name) + "/items?limit=50").then((rows) => {
      table.replaceChildren(
        element("tr", {}, element("th", { text: "item" }), element("th", { text: "time" }), element("th", { text: "worker" }), element("th", { text: "status" })),
        ...rows.map((row) =>
          element("tr", { title: row.error || "" }, element("td", { text: row.item }), element("td", { text: formatSeconds(row.duration_s) }), element("td", { text: row.worker }), element("td", {}, statusBadge(row.status))),
        ),
      );
    });
  }
  if (node.error) {
    children.push(element("h4", { text: "error" + (node.error.item ? " in " + node.error.item : "") }), element("pre", { text: node.error.traceback || node.error.type + ": " + node.error.message }));
  }
  if (node.source) children.push(element("h4", { text: "source" }), element("pre", { class: "source", text: node.source }));
  panel.replaceChildren(...children);
}

function render(run) {
  current = run;
  window.cayleyRun = run;
  renderHeader(run);
  if (cy === null) createGraph(run);
  else updateGraph(run);
  renderErrors(run);
  renderBlocks(run);
  renderTimeline(run);
  if (selected) showDetails();
}

function follow() {
  const events = new EventSource("/api/runs/" + encodeURIComponent(runId) + "/events");
  const live = document.getElementById("live");
  events.addEventListener("run", (event) => {
    const run = JSON.parse(event.data);
    render(run);
    if (run.status !== "running") {
      events.close();
      live.classList.add("off");
      live.title = "the run has ended";
    }
  });
  events.addEventListener("missing", () => {
    events.close();
    document.getElementById("title").textContent = "No run " + runId + " in this store";
  });
  events.onerror = () => live.classList.add("off");
  events.onopen = () => live.classList.remove("off");
}

renderLegend();
fetchJson("/api/runs/" + encodeURIComponent(runId))
  .then((run) => {
    render(run);
    if (run.status === "running") follow();
    else document.getElementById("live").classList.add("off");
  })
  .catch((error) => {
    document.getElementById("title").textContent = error.message;
  });

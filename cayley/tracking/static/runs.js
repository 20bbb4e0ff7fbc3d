// The list of runs: filters kept in the address, refreshed on server-sent events.
"use strict";

const projectSelect = document.getElementById("project");
const statusSelect = document.getElementById("status");
const filters = new URLSearchParams(location.search);
statusSelect.value = filters.get("status") || "";

function wantedProject() {
  return new URLSearchParams(location.search).get("project") || "";
}

async function loadProjects() {
  const projects = await fetchJson("/api/projects");
  const wanted = wantedProject();
  if (wanted && !projects.includes(wanted)) projects.push(wanted);
  for (const project of projects) {
    if ([...projectSelect.options].some((option) => option.value === project)) continue;
    projectSelect.append(element("option", { value: project, text: project }));
  }
  projectSelect.value = wanted;
}

async function loadRuns() {
  const params = new URLSearchParams();
  const project = wantedProject();
  if (project) params.set("project", project);
  if (statusSelect.value) params.set("status", statusSelect.value);
  const runs = await fetchJson("/api/runs?" + params);
  const body = document.querySelector("#runs tbody");
  body.replaceChildren(
    ...runs.map((run) =>
      element(
        "tr",
        { "data-run-id": run.run_id },
        element("td", {}, element("a", { href: "/runs/" + run.run_id, text: run.run_id.slice(0, 8) })),
        element("td", { text: run.project }),
        element("td", {}, statusBadge(run.status)),
        element("td", { text: formatTime(run.started) }),
        element("td", { text: formatSeconds(run.duration_s) }),
        element("td", { class: "outputs", text: run.outputs.join(", ") }),
      ),
    ),
  );
  document.getElementById("empty").hidden = runs.length > 0;
}

function applyFilters() {
  const params = new URLSearchParams();
  if (projectSelect.value) params.set("project", projectSelect.value);
  if (statusSelect.value) params.set("status", statusSelect.value);
  history.replaceState(null, "", params.toString() ? "?" + params : "/");
  loadRuns();
}

projectSelect.addEventListener("change", applyFilters);
statusSelect.addEventListener("change", applyFilters);

loadProjects().then(loadRuns);
const events = new EventSource("/api/events");
events.addEventListener("runs", () => loadProjects().then(loadRuns));
events.onerror = () => document.getElementById("live").classList.add("off");
events.onopen = () => document.getElementById("live").classList.remove("off");

// The explorer: search a name, draw its neighbourhood, expand, colour by kind, size by
// centrality, draw a directive's instruction chain, and show any edge's sources.
import cytoscape from "cytoscape";

const COLOURS = {
  Authority: "#d62728", Institution: "#1f77b4", Person: "#2ca02c", Party: "#9467bd",
  Election: "#8c564b", Directive: "#ff7f0e", Poll: "#e377c2", Platform: "#7f7f7f",
  Source: "#bcbd22",
};
const $ = (id) => document.getElementById(id);
const state = { fields: new Set(), sizeBy: "" };

async function gql(query, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

function status(text) { $("status").textContent = text || ""; }

const cy = cytoscape({
  container: $("cy"),
  wheelSensitivity: 0.3,
  maxZoom: 2,
  style: [
    { selector: "node", style: {
      "background-color": (n) => COLOURS[n.data("kind")] || "#333",
      label: (n) => n.data("label") + (n.data("more") ? ` (+${n.data("more")} more)` : ""),
      width: "data(size)", height: "data(size)", "font-size": 9, "text-wrap": "ellipsis",
      "text-max-width": 140, "text-valign": "bottom", "text-margin-y": 2 } },
    { selector: "edge", style: {
      width: 1.5, "line-color": "#bbb", "target-arrow-color": "#bbb",
      "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(kind)",
      "font-size": 7, color: "#777" } },
    { selector: "edge.chain", style: { "line-color": "#ff7f0e", "target-arrow-color": "#ff7f0e",
      width: 3 } },
    { selector: "node.chain", style: { "border-width": 3, "border-color": "#ff7f0e" } },
    { selector: "node:selected", style: { "border-width": 3, "border-color": "#000" } },
    { selector: "edge:selected", style: { "line-color": "#000", "target-arrow-color": "#000" } },
  ],
});
window.cy = cy; // for tests and for the curious, in the browser console

function addElements(elements) {
  const fresh = [];
  for (const el of [...elements.nodes, ...elements.edges]) {
    const existing = cy.getElementById(el.data.id);
    if (existing.nonempty()) {
      // A later walk may know more (degree, "N more"): keep the newest data.
      existing.data(el.data);
    } else {
      fresh.push(el);
    }
  }
  cy.add(fresh);
  resize();
  cy.layout({ name: "cose", animate: false, randomize: false, nodeRepulsion: () => 9000 }).run();
  return fresh.length;
}

async function subgraph(ids, hops = 1, relTypes = null) {
  const data = await gql(
    `query($ids: [ID!]!, $hops: Int!, $relTypes: [RelationshipType!]) {
      subgraph(ids: $ids, hops: $hops, relTypes: $relTypes, limit: 500, hubLimit: 40) {
        elements truncated omittedNodes nodeCount edgeCount
      }
    }`, { ids, hops, relTypes });
  const s = data.subgraph;
  addElements(s.elements);
  status(s.truncated ? `Showing ${s.nodeCount} nodes; ${s.omittedNodes} more left out.` : "");
  return s.elements;
}

// -- sizes ------------------------------------------------------------------------

let scores = null;
function resize() {
  const values = cy.nodes().map((n) => scores ? (scores.get(n.id()) || 0) : (n.data("degree") || n.degree()));
  const max = Math.max(1e-9, ...values);
  cy.nodes().forEach((n, i) => n.data("size", 16 + 34 * Math.sqrt(values[i] / max)));
}

async function loadScores(measure) {
  if (!measure) { scores = null; resize(); return; }
  const data = await gql(
    `query($m: CentralityMeasure!) { centrality(measure: $m, top: 10000) {
      entries { nodeId score } } }`, { m: measure });
  scores = new Map(data.centrality.entries.map((e) => [e.nodeId, e.score]));
  resize();
}

// -- details ----------------------------------------------------------------------

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function table(data, skip) {
  const rows = Object.entries(data)
    .filter(([k, v]) => !skip.includes(k) && v !== null && v !== "" &&
      !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(
      Array.isArray(v) ? v.join("; ") : v)}</td></tr>`);
  return `<table>${rows.join("")}</table>`;
}

async function sourcesHtml(ids) {
  if (!ids || ids.length === 0) return "<p><em>No sources cited.</em></p>";
  const fields = ids.slice(0, 25).map((id, i) =>
    `s${i}: node(id: ${JSON.stringify(id)}) { id label ... on Source { url publisher published } }`);
  const data = await gql(`{ ${fields.join("\n")} }`);
  const items = Object.values(data).filter(Boolean).map((s) => {
    const link = s.url && /^https?:\/\//.test(s.url)
      ? ` <a href="${escapeHtml(s.url)}" rel="noreferrer" target="_blank">link</a>` : "";
    const meta = [s.publisher, s.published].filter(Boolean).map(escapeHtml).join(", ");
    return `<li data-source-id="${escapeHtml(s.id)}">${escapeHtml(s.label)}` +
      `${meta ? ` <span class="kind">${meta}</span>` : ""}${link}</li>`;
  });
  return `<h3>Sources</h3><ul id="sources">${items.join("")}</ul>`;
}

async function showNode(node) {
  const d = node.data();
  const chain = d.kind === "Directive"
    ? `<button id="chain" type="button">Draw instruction chain</button>` : "";
  $("details").innerHTML = `<h2>${escapeHtml(d.label)} <span class="kind">${d.kind}</span></h2>
    <div class="buttons"><button id="expand" type="button">Expand neighbours</button>${chain}</div>
    ${table(d, ["label", "size", "group"])}<div id="node-sources"></div>`;
  $("expand").onclick = () => run(() => subgraph([d.id], 1));
  if (chain) $("chain").onclick = () => run(() => drawChain(d.id));
  const sources = sourcesHtml(d.sources).then((html) => { $("node-sources").innerHTML = html; });
  // Clicking a directive draws the way its instruction travelled.
  if (d.kind === "Directive") await drawChain(d.id);
  await sources;
}

async function showEdge(edge) {
  const d = edge.data();
  $("details").innerHTML = `<h2>${escapeHtml(d.kind)}</h2>
    <p>${escapeHtml(d.source)} → ${escapeHtml(d.target)}</p>
    ${table(d, ["label", "group"])}<div id="edge-sources"><p>Loading sources…</p></div>`;
  $("edge-sources").innerHTML = await sourcesHtml(d.sources);
}

// -- instruction chain ---------------------------------------------------------------

async function drawChain(directiveId) {
  let ids = [directiveId];
  if (state.fields.has("instructionChain")) {
    const data = await gql(
      `query($id: ID!) { instructionChain(directiveId: $id) {
        hops { directiveId issuers { id } recipients { recipientId } } } }`, { id: directiveId });
    const hops = data.instructionChain.hops;
    ids = [...new Set(hops.map((h) => h.directiveId))];
  }
  const flow = ["ISSUED", "TARGETS", "RELAYS", "REQUIRES"];
  const elements = await subgraph(ids.slice(0, 100), 1, flow);
  cy.elements().removeClass("chain");
  for (const el of [...elements.nodes, ...elements.edges]) {
    cy.getElementById(el.data.id).addClass("chain");
  }
  status(`Instruction chain: ${ids.length} directive(s), ${elements.edges.length} link(s).`);
}

// -- wiring ---------------------------------------------------------------------------

async function run(action) {
  try { status(""); await action(); } catch (e) { status(e.message); }
}

cy.on("tap", "node", (e) => run(() => showNode(e.target)));
cy.on("tap", "edge", (e) => run(() => showEdge(e.target)));

$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  run(async () => {
    const text = $("search").value.trim();
    if (!text) return;
    const data = await gql(
      `query($t: String!) { search(text: $t, first: 20) { id kind label } }`, { t: text });
    $("results").innerHTML = data.search.map((n) =>
      `<li data-id="${escapeHtml(n.id)}">${escapeHtml(n.label)}` +
      `<span class="kind">${escapeHtml(n.kind)}</span></li>`).join("") ||
      "<li><em>Nothing found.</em></li>";
  });
});

$("results").addEventListener("click", (e) => {
  const li = e.target.closest("li[data-id]");
  if (!li) return;
  run(async () => {
    await subgraph([li.dataset.id], 0);
    const node = cy.getElementById(li.dataset.id);
    cy.elements().unselect();
    node.select();
    await showNode(node);
  });
});

$("size-by").addEventListener("change", (e) => run(() => loadScores(e.target.value)));

async function start() {
  $("legend").innerHTML = Object.entries(COLOURS)
    .map(([k, c]) => `<span><i style="background:${c}"></i>${k}</span>`).join("");
  const data = await gql(`{ __schema { queryType { fields { name } } }
    measures: __type(name: "CentralityMeasure") { enumValues { name } } }`);
  state.fields = new Set(data.__schema.queryType.fields.map((f) => f.name));
  if (state.fields.has("centrality") && data.measures) {
    for (const { name } of data.measures.enumValues) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name.toLowerCase().replace("_", " ");
      $("size-by").append(option);
    }
  }
  document.body.dataset.ready = "true";
}

run(start);

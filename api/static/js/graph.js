// An SVG picture of one entity's neighbourhood: the entity in the middle, neighbours around it.
import { t } from "./i18n.js";
import { entityHref, h, s } from "./dom.js";

const WIDTH = 760;
const HEIGHT = 480;
const PER_GROUP = 6;
const KNOWN = ["Customer", "SupportCase", "Product", "Transaction", "Segment", "Employee", "Policy", "IndustryRule",
               "Document", "Topic", "ProductCategory", "Channel"];

const short = (text, n = 22) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);
const kind = (labels) => (labels || []).find((l) => KNOWN.includes(l)) || (labels || [])[0] || "Other";

/** The neighbourhood of `entity` (a GET /v1/entities answer) as a labelled, linked SVG figure. */
export function neighbourhoodSvg(entity, { title = t("customer.graph"), description = t("customer.graph.desc") } = {}) {
  const items = [];
  for (const group of entity.groups) {
    for (const item of group.items.slice(0, PER_GROUP)) items.push({ ...item, group });
  }
  const cx = WIDTH / 2;
  const cy = HEIGHT / 2;
  const rx = WIDTH / 2 - 150;
  const ry = HEIGHT / 2 - 50;
  const edges = [];
  const nodes = [];
  const labelled = new Set();
  items.forEach((item, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(items.length, 1);
    const x = cx + rx * Math.cos(angle);
    const y = cy + ry * Math.sin(angle);
    const arrow = item.group.direction === "out" ? "→" : "←";
    edges.push(s("line", { x1: cx, y1: cy, x2: x, y2: y, class: `edge e-${item.group.type}` }));
    if (!labelled.has(item.group)) {
      labelled.add(item.group);
      edges.push(s("text", { x: (cx + x) / 2, y: (cy + y) / 2 - 4, class: "edge-label", "text-anchor": "middle" },
        `${arrow} ${item.group.type}${item.group.total > item.group.items.length ? ` (${item.group.total})` : ""}`));
    }
    const anchor = Math.cos(angle) > 0.2 ? "start" : Math.cos(angle) < -0.2 ? "end" : "middle";
    const dx = anchor === "start" ? 16 : anchor === "end" ? -16 : 0;
    const dy = anchor === "middle" ? (Math.sin(angle) > 0 ? 28 : -18) : 4;
    const name = item.name || item.uid;
    nodes.push(s("a", { href: entityHref(item.uid, kind(item.labels)), class: "node-link", "data-uid": item.uid },
      s("title", {}, `${item.group.type} ${arrow} ${kind(item.labels)} ${item.uid}: ${name}`),
      s("circle", { cx: x, cy: y, r: 11, class: `node n-${kind(item.labels)}` }),
      s("text", { x: x + dx, y: y + dy, "text-anchor": anchor, class: "node-label" }, short(name))));
  });
  const centreName = entity.properties.name || entity.properties.title || entity.uid;
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", class: "graph", id: "graph",
                         "aria-labelledby": "graph-title graph-desc" },
    s("title", { id: "graph-title" }, `${title}: ${centreName}`),
    s("desc", { id: "graph-desc" }, description),
    s("g", { class: "edges" }, edges),
    s("g", { class: "nodes" }, nodes),
    s("g", { class: "centre" },
      s("circle", { cx, cy, r: 24, class: `node centre n-${kind(entity.labels)}` }),
      s("text", { x: cx, y: cy + 42, "text-anchor": "middle", class: "node-label centre-label" }, short(centreName, 30))));
  const kinds = [...new Set([kind(entity.labels), ...items.map((i) => kind(i.labels))])];
  return h("figure", { class: "graph-figure" }, svg,
    h("figcaption", {}, h("ul", { class: "legend" }, kinds.map((k) => h("li", {},
      s("svg", { width: 12, height: 12, "aria-hidden": "true" }, s("circle", { cx: 6, cy: 6, r: 5, class: `node n-${k}` })),
      " ", t(`type.${k}`) !== `type.${k}` ? t(`type.${k}`) : k)))));
}

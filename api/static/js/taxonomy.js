// A taxonomy tree (GET /v1/taxonomy) as nested lists: open a branch, follow a concept to drill down.
import { getLang } from "./i18n.js";
import { formatNumber, h } from "./dom.js";

/** Concepts with counts; `hrefOf(node)` is where choosing a concept leads, `active` the chosen uids. */
export function taxonomyTree(nodes, hrefOf, active, depth = 0) {
  const zh = getLang() === "zh";
  const items = nodes.filter((node) => node.count > 0).map((node) => {
    const label = zh ? node.label_zh || node.label_en : node.label_en;
    const other = zh ? node.label_en : node.label_zh;
    const link = h("a", { href: hrefOf(node), class: "concept", "data-uid": node.uid,
                          "aria-current": active.has(node.uid) ? "true" : null, title: other || null },
      h("span", { class: "concept-label" }, label), " ", h("span", { class: "count" }, formatNumber(node.count)));
    const children = (node.children || []).filter((c) => c.count > 0);
    if (!children.length) return h("li", {}, link);
    const open = depth === 0 && nodes.length <= 3 || containsActive(node, active);
    return h("li", {}, h("details", { open },
      h("summary", {}, link),
      taxonomyTree(children, hrefOf, active, depth + 1)));
  });
  return h("ul", { class: depth ? "tree-children" : "tree" }, items);
}

function containsActive(node, active) {
  return active.has(node.uid) || (node.children || []).some((child) => containsActive(child, active));
}

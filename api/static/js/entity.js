// Any entity: its properties, its neighbours by relationship, and a picture of them.
import { call } from "./api.js";
import { t } from "./i18n.js";
import { entityHref, h, mount } from "./dom.js";
import { neighbourhoodSvg } from "./graph.js";

const HIDDEN = new Set(["uid", "embedding"]);

export async function entityView(main, route, ctx) {
  const entity = await call(`/v1/entities/${encodeURIComponent(route.arg)}`, { params: { limit: 12 } });
  if (!ctx.alive()) return;
  const p = entity.properties;
  const rows = Object.entries(p).filter(([k, v]) => !HIDDEN.has(k) && v != null && typeof v !== "object" || Array.isArray(v));
  mount(main, h("div", { class: "entity-page" },
    h("section", { class: "card", id: "entity", "data-uid": entity.uid },
      h("p", { class: "kicker" }, `${entity.labels.join(", ")} ${entity.uid}`),
      h("h1", {}, p.name || p.title || entity.uid),
      h("h2", {}, t("entity.properties")),
      h("dl", { class: "props" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, Array.isArray(v) ? v.join(", ") : String(v))]))),
    h("section", { class: "card" }, h("h2", {}, t("entity.neighbours")), neighbourhoodSvg(entity), neighbourList(entity))));
}

/** The neighbour groups as a readable list: relationship, direction, linked neighbours. */
export function neighbourList(entity) {
  return h("dl", { class: "neighbours" }, entity.groups.map((g) => [
    h("dt", {}, g.direction === "out" ? `${g.type} →` : `← ${g.type}`),
    h("dd", {}, g.items.map((item, i) => [i ? ", " : "",
      h("a", { href: entityHref(item.uid, item.labels?.[0]) }, item.name || item.uid)]),
      g.total > g.items.length ? h("span", { class: "muted" }, ` (${t("entity.more", { n: g.total - g.items.length })})`) : null),
  ]));
}

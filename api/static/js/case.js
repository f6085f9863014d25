// The case page: the case from the graph, then what the case assistant says about it.
import { call } from "./api.js";
import { t } from "./i18n.js";
import { entityHref, formatNumber, h, mount, routeHref } from "./dom.js";
import { expertCard } from "./experts.js";
import { neighbourList } from "./entity.js";

export async function caseView(main, route, ctx) {
  const uid = route.arg;
  const entity = await call(`/v1/entities/${encodeURIComponent(uid)}`, { params: { limit: 20 } });
  if (!ctx.alive()) return;
  const p = entity.properties;
  const customer = groupItems(entity, "RAISED", "in")[0];
  const assistSlot = h("div", { class: "assist", id: "assist" }, h("p", { class: "muted" }, t("loading")));
  mount(main, h("div", { class: "case-page" },
    h("section", { class: "card case", id: "case", "data-uid": uid },
      h("p", { class: "kicker" }, `${t("case.title")} ${uid}`),
      h("h1", { id: "case-title" }, p.title || uid),
      h("p", { class: "facts" },
        p.status ? h("span", { class: `badge status-${p.status}` }, p.status) : null,
        p.priority ? h("span", { class: "badge" }, p.priority) : null,
        p.openedAt ? h("span", {}, `${t("case.opened")}: ${String(p.openedAt).slice(0, 10)}`) : null,
        p.closedAt ? h("span", {}, `${t("case.closed")}: ${String(p.closedAt).slice(0, 10)}`) : null,
        customer ? h("a", { href: entityHref(customer.uid, "Customer"), id: "case-customer" }, `${t("case.customer")}: ${customer.name}`) : null),
      h("h2", {}, t("case.description")),
      h("p", { class: "text" }, p.description || p.text || ""),
      h("h2", {}, t("case.resolution")),
      h("p", { class: "text resolution" }, p.resolution || t("case.noresolution")),
      h("h2", {}, t("case.related")),
      neighbourList(entity)),
    assistSlot));
  const text = [p.title, p.description].filter(Boolean).join("\n\n") || uid;
  const assist = await call("/v1/cases/assist", { body: { text, customer_uid: customer?.uid || null, cases: 6, experts: 5 } });
  if (!ctx.alive()) return;
  mount(assistSlot, assistSections(uid, p.title || text, assist));
}

function groupItems(entity, type, direction) {
  return entity.groups.filter((g) => g.type === type && g.direction === direction).flatMap((g) => g.items);
}

function assistSections(uid, title, assist) {
  const similar = assist.similar_cases.filter((c) => c.uid !== uid).slice(0, 5);
  return [
    h("section", { class: "card", id: "similar", "aria-labelledby": "similar-title" },
      h("h2", { id: "similar-title" }, t("case.similar")),
      similar.length ? h("ol", { class: "similar-list" }, similar.map((c) => h("li", { "data-uid": c.uid },
        h("h3", {}, h("a", { href: entityHref(c.uid, "SupportCase") }, c.title)),
        h("p", { class: "facts" },
          h("span", { class: `badge status-${c.status}` }, c.status),
          h("span", {}, `${t("meta.score")}: ${formatNumber(c.score, 2)}`),
          c.resolved_by?.length ? h("span", { class: "resolved-by" }, `${t("meta.resolvedBy")}: `,
            c.resolved_by.map((e, i) => [i ? ", " : "", h("a", { href: entityHref(e.uid, "Employee") }, e.name)])) : null,
          c.topics?.length ? h("span", {}, `${t("meta.topic")}: ${c.topics.join(", ")}`) : null),
        c.resolution ? h("p", { class: "resolution" }, c.resolution) : null)))
        : h("p", { class: "empty" }, t("case.similar.none"))),
    h("section", { class: "card", id: "rules", "aria-labelledby": "rules-title" },
      h("h2", { id: "rules-title" }, t("case.rules")),
      assist.rules.length ? h("ul", { class: "rule-list" }, assist.rules.map((r) => h("li", { "data-uid": r.uid },
        h("span", { class: "badge" }, t(`type.${r.type}`)), " ",
        h("a", { href: entityHref(r.uid, r.type) }, r.title || r.uid),
        r.via?.length ? h("span", { class: "muted" }, ` · ${t("case.via")} ${r.via.join("; ")}`) : null)))
        : h("p", { class: "empty" }, t("case.rules.none"))),
    h("section", { class: "card", id: "case-experts", "aria-labelledby": "experts-title" },
      h("h2", { id: "experts-title" }, t("case.experts")),
      h("ol", { class: "expert-list" }, assist.experts.map((e) => h("li", {}, expertCard(e)))),
      h("p", {}, h("a", { href: routeHref("experts", { q: title }), id: "more-experts" }, t("case.experts.more")))),
  ];
}

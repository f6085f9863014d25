// Knowledge at risk (GET /v1/analytics/knowledge-risk, /v1/employees/{uid}/departure-impact) and the
// knowledge map (GET /v1/knowledge-map): who holds the know-how, and where each topic's knowledge sits.
import { call } from "./api.js";
import { getLang, t } from "./i18n.js";
import { entityHref, formatNumber, h, mount, routeHref } from "./dom.js";

const KINDS = ["topic", "product", "customer"];

const percent = (share) => `${formatNumber(share * 100)}%`;

function subjectLink(kind, uid, name) {
  return h("a", { href: entityHref(uid, kind === "customer" ? "Customer" : kind === "product" ? "Product" : "Topic"),
                  class: "subject" }, name || uid);
}

function evidenceList(person) {
  return h("ul", { class: "evidence" }, (person.evidence || []).map((e) => h("li", {},
    e.type === "OWNS" ? t("risk.owns") : h("a", { href: entityHref(e.uid, e.type) }, e.title || e.uid), " ",
    h("code", { class: "path" }, e.path))));
}

function holdersCell(subject) {
  const top = subject.people[0];
  return h("details", {},
    h("summary", {}, top ? h("span", {}, top.name || top.uid, h("span", { class: "muted" }, ` · ${top.items}`)) : "—"),
    h("ul", {}, subject.people.map((p) => h("li", {},
      h("a", { href: routeHref("knowledge-risk", { leaver: p.uid }) }, p.name || p.uid),
      h("span", { class: "muted" }, ` · ${p.team || ""} · ${p.items} (${percent(p.share)})`), evidenceList(p)))));
}

function riskTable(items) {
  if (!items.length) return h("p", { class: "empty" }, t("risk.none"));
  return h("table", { class: "risk-table", id: "risk-table" },
    h("thead", {}, h("tr", {}, ["risk.subject", "risk.kind", "risk.evidence", "risk.holders", "risk.share", "risk.people"]
      .map((key) => h("th", { scope: "col" }, t(key))))),
    h("tbody", {}, items.map((s) => h("tr", { "data-uid": s.uid, class: s.single_expert ? "single" : null },
      h("td", {}, subjectLink(s.kind, s.uid, s.name), s.single_expert ? h("span", { class: "badge gap" }, t("risk.single")) : null),
      h("td", {}, t(`risk.kind.${s.kind}`)),
      h("td", { class: "num" }, formatNumber(s.evidence)),
      h("td", { class: "num holders" }, formatNumber(s.holders)),
      h("td", { class: "num" }, percent(s.top_share)),
      h("td", {}, holdersCell(s))))));
}

function riskForm(kind, single, leaver) {
  const select = h("select", { id: "risk-kind", name: "kind" },
    [["", t("risk.kind.all")], ...KINDS.map((k) => [k, t(`risk.kind.${k}`)])].map(([value, label]) =>
      h("option", { value, selected: value === kind }, label)));
  const box = h("input", { type: "checkbox", id: "risk-single", name: "single", checked: single });
  const who = h("input", { id: "risk-leaver", name: "leaver", value: leaver, maxlength: 200, placeholder: "EMP-001" });
  const form = h("form", { class: "card risk-form", id: "risk-form" },
    h("h1", {}, t("risk.title")), h("p", { class: "muted" }, t("risk.intro")),
    h("div", { class: "row" },
      h("label", { for: "risk-kind" }, t("risk.kind")), select,
      h("label", {}, box, " ", t("risk.single.only")),
      h("label", { for: "risk-leaver" }, t("risk.leaver")), who,
      h("button", { type: "submit", id: "risk-submit" }, t("risk.submit"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = routeHref("knowledge-risk", { kind: select.value, single: box.checked ? "1" : "",
                                                   leaver: who.value.trim() });
  });
  return form;
}

function departureCard(impact) {
  const name = impact.employee.name || impact.employee.uid;
  return h("section", { class: "card", id: "departure" },
    h("h2", {}, t("risk.departure", { name })),
    h("p", { class: "muted" }, t("risk.holds", KINDS.reduce((acc, k) => ({ ...acc, [k]: impact.holds[k] || 0 }), {}))),
    impact.sole.length
      ? h("table", { class: "risk-table", id: "departure-table" },
        h("thead", {}, h("tr", {}, ["risk.subject", "risk.kind", "risk.evidence", "risk.next"].map((key) =>
          h("th", { scope: "col" }, t(key))))),
        h("tbody", {}, impact.sole.map((i) => h("tr", { "data-uid": i.subject.uid },
          h("td", {}, subjectLink(i.subject.kind, i.subject.uid, i.subject.name)),
          h("td", {}, t(`risk.kind.${i.subject.kind}`)),
          h("td", { class: "num" }, formatNumber(i.subject.evidence)),
          h("td", { class: "next-best" }, i.next_best
            ? [h("a", { href: entityHref(i.next_best.uid, "Employee") }, i.next_best.name || i.next_best.uid),
               h("span", { class: "muted" }, ` · ${i.next_best.team || ""} · ${formatNumber(i.next_best.score, 2)}`)]
            : h("span", { class: "muted" }, i.looked_up ? t("risk.nobody") : t("risk.notlooked")))))))
      : h("p", { class: "empty" }, t("risk.nosole")));
}

export async function knowledgeRiskView(main, route, ctx) {
  const kind = route.params.get("kind") || "";
  const single = route.params.get("single") === "1";
  const leaver = (route.params.get("leaver") || "").trim();
  const [risk, impact] = await Promise.all([
    call("/v1/analytics/knowledge-risk", { params: { kind, single_only: single, k: 200 } }),
    leaver ? call(`/v1/employees/${encodeURIComponent(leaver)}/departure-impact`) : null,
  ]);
  if (!ctx.alive()) return;
  const kinds = Object.keys(risk.subjects);
  mount(main, h("div", { class: "knowledge-page", id: "knowledge-risk" }, riskForm(kind, single, leaver),
    impact ? departureCard(impact) : null,
    h("section", { class: "card" },
      h("p", { class: "summary", id: "risk-summary" }, kinds.map((k) =>
        h("span", { class: "term" }, t("risk.summary", { kind: t(`risk.kind.${k}`), n: risk.subjects[k],
                                                           single: risk.single_expert[k].length })))),
      riskTable(risk.items))));
}

// ------------------------------------------------------------------------------------ knowledge map

const label = (node) => (getLang() === "zh" ? node.label_zh || node.label_en : node.label_en);

function gapBadges(gaps) {
  return gaps.map((gap) => h("span", { class: "badge gap", "data-gap": gap }, t(`map.gap.${gap}`)));
}

function mapRows(nodes) {
  return h("table", { class: "map-table", id: "map-table" },
    h("thead", {}, h("tr", {}, ["map.topic", "map.documents", "map.age", "map.cases", "map.people", "map.gaps"]
      .map((key) => h("th", { scope: "col" }, t(key))))),
    h("tbody", {}, nodes.map((n) => h("tr", { "data-uid": n.uid },
      h("td", {}, h("a", { href: routeHref("knowledge-map", { root: n.uid }), class: "concept", title: n.uid }, label(n))),
      h("td", { class: "num" }, formatNumber(n.documents)),
      h("td", { class: "num" }, n.newest_document_age_days == null ? "—" : t("map.days", { n: n.newest_document_age_days })),
      h("td", { class: "num" }, formatNumber(n.resolved_cases)),
      h("td", { class: "num" }, `${formatNumber(n.people)} (${formatNumber(n.active_people)})`),
      h("td", {}, gapBadges(n.gaps))))));
}

function nodeCard(node) {
  const list = (id, title, items, render) => h("section", { class: "card", id },
    h("h2", {}, title), items.length ? h("ul", {}, items.map((x) => h("li", {}, render(x))))
      : h("p", { class: "muted" }, t("customer.none")));
  return [
    h("section", { class: "card", id: "map-node", "data-uid": node.uid },
      h("p", { class: "kicker" }, node.uid),
      h("h1", { id: "map-title" }, label(node)),
      h("p", { class: "facts" },
        h("span", {}, `${t("map.documents")}: ${formatNumber(node.documents)}`), " · ",
        h("span", {}, `${t("map.cases")}: ${formatNumber(node.resolved_cases)}`), " · ",
        h("span", {}, `${t("map.people")}: ${formatNumber(node.people)} (${formatNumber(node.active_people)})`)),
      h("p", { class: "gaps" }, gapBadges(node.gaps))),
    h("div", { class: "columns" },
      list("map-documents", t("map.documents"), node.document_list, (d) => [
        h("a", { href: entityHref(d.uid, "Document") }, d.title || d.uid),
        h("span", { class: "muted" }, ` · ${d.type} · ${d.published || "—"}`)]),
      list("map-experts", t("map.people"), node.experts, (p) => [
        h("a", { href: entityHref(p.uid, "Employee") }, p.name || p.uid),
        h("span", { class: "muted" }, ` · ${p.items} · ${p.latest || "—"}${p.active ? "" : ` · ${t("map.inactive")}`}`)]),
      list("map-outdated", t("map.outdated"), node.outdated, (o) => [
        h("a", { href: entityHref(o.uid, "Document") }, o.title || o.uid),
        h("span", { class: "muted" }, ` · ${o.published} < ${o.release} ${o.released}`)])),
  ];
}

export async function knowledgeMapView(main, route, ctx) {
  const root = route.params.get("root") || "";
  const map = await call("/v1/knowledge-map", { params: { root } });
  if (!ctx.alive()) return;
  const node = root ? map.roots[0] : null;
  const gaps = Object.entries(map.gap_counts).map(([gap, n]) => h("span", { class: "term" }, `${t(`map.gap.${gap}`)}: ${n}`));
  mount(main, h("div", { class: "knowledge-page", id: "knowledge-map" },
    h("nav", { class: "crumbs", "aria-label": t("map.crumbs") },
      h("a", { href: "#/knowledge-map", id: "map-home" }, t("map.root")), node ? ` / ${label(node)}` : null),
    node ? nodeCard(node) : h("section", { class: "card" }, h("h1", {}, t("map.title")), h("p", { class: "muted" }, t("map.intro"))),
    h("section", { class: "card" },
      h("p", { class: "summary", id: "map-summary" }, t("map.summary", { n: map.topics, day: map.as_of }), " ", gaps),
      node && !node.children.length ? h("p", { class: "muted" }, t("map.leaf"))
        : mapRows(node ? node.children : map.roots))));
}

/** The customer 360's "who knows this customer" card. */
export function whoKnowsCard(knowledge) {
  const people = knowledge?.people || [];
  return h("section", { class: "card", id: "customer-knowledge" },
    h("h2", {}, t("customer.knowledge")),
    knowledge ? h("p", { class: "muted" }, t("customer.knowledge.summary", { n: knowledge.holders, evidence: knowledge.evidence }),
      knowledge.single_expert ? [" ", h("span", { class: "badge gap" }, t("risk.single"))] : null) : null,
    people.length ? h("ul", {}, people.slice(0, 10).map((p) => h("li", {},
      h("a", { href: entityHref(p.uid, "Employee") }, p.name || p.uid),
      h("span", { class: "muted" }, ` · ${p.team || ""} · ${p.items} (${percent(p.share)})`))))
      : h("p", { class: "muted" }, t("customer.none")));
}

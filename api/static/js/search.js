// The search page: query, facets and taxonomy in the sidebar, removable filter chips, grouped hits, pages.
import { call } from "./api.js";
import { getLang, t } from "./i18n.js";
import { entityHref, formatNumber, h, highlight, highlightTerms, mount, routeHref } from "./dom.js";
import { taxonomyTree } from "./taxonomy.js";

export const FILTER_FIELDS = ["type", "status", "priority", "language", "topic", "category", "product", "customer"];
const DATE_FIELDS = ["date_from", "date_to"];
const FACET_ORDER = ["type", "status", "priority", "language", "topic", "category", "product", "customer"];
const PAGE_SIZE = 10;
const MAX_HITS = 100;  // the API returns at most 100 hits for one query
const FACET_SHOWN = 6;
const TYPE_ORDER = ["SupportCase", "Document", "Policy", "IndustryRule"];
const EXAMPLES = ["退款", "printer driver fails after update", "发票", "status:open refund"];

/** The search state a hash carries: words, filters, page, taxonomy scheme. */
export function readState(params) {
  const filters = {};
  for (const field of [...FILTER_FIELDS, ...DATE_FIELDS]) {
    const values = params.getAll(field).filter(Boolean);
    if (values.length) filters[field] = values;
  }
  const page = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
  return { q: (params.get("q") || "").trim(), filters, page, scheme: params.get("scheme") || "topics" };
}

export function stateHref(state, changes = {}) {
  const next = { ...state, ...changes };
  return routeHref("search", { q: next.q, ...next.filters, page: next.page > 1 ? next.page : null,
                               scheme: next.scheme !== "topics" ? next.scheme : null });
}

function withFilter(state, field, value, on) {
  const filters = { ...state.filters };
  const values = new Set(filters[field] || []);
  if (DATE_FIELDS.includes(field)) values.clear();
  if (on) values.add(value); else values.delete(value);
  if (values.size) filters[field] = [...values]; else delete filters[field];
  return stateHref(state, { filters, page: 1 });
}

/** Filters written as query syntax, for a search with no words (the API wants a non-empty q). */
function filtersAsQuery(filters) {
  const parts = [];
  for (const field of FILTER_FIELDS) for (const v of filters[field] || []) parts.push(`${field}:"${v.replace(/"/g, "")}"`);
  if (filters.date_from || filters.date_to) parts.push(`date:${filters.date_from?.[0] || ""}..${filters.date_to?.[0] || ""}`);
  return parts.join(" ");
}

function valueLabel(field, value, labels) {
  if (field === "type") return t(`type.${value}`);
  if (field === "language") return ["en", "zh"].includes(value) ? t(`lang.${value}`) : value;
  if (field === "topic" || field === "category") return labels.get(value) || value;
  return value;
}

export async function searchView(main, route, ctx) {
  const state = readState(route.params);
  document.getElementById("q").value = state.q;
  const hasFilters = Object.keys(state.filters).length > 0;
  const words = state.q || filtersAsQuery(state.filters);
  const taxonomyParams = { scheme: state.scheme, q: state.q, ...state.filters };
  if (!words) {
    const tree = await call("/v1/taxonomy", { params: taxonomyParams });
    if (!ctx.alive()) return;
    mount(main, homePage(state, tree));
    return;
  }
  const k = Math.min(MAX_HITS, state.page * PAGE_SIZE);
  const [result, tree] = await Promise.all([
    call("/v1/search", { params: { q: words, k, facets: true, entities: state.q && state.page === 1, ...state.filters } }),
    call("/v1/taxonomy", { params: taxonomyParams }),
  ]);
  if (!ctx.alive()) return;
  const labels = conceptLabels(tree.nodes);
  const terms = state.q ? highlightTerms(state.q, result.expanded_terms) : [];
  mount(main, h("div", { class: "layout" },
    h("aside", { class: "sidebar", id: "sidebar", "aria-label": t("facets.title") },
      facetPanel(state, result.facets || {}, labels),
      taxonomySection(state, tree, true)),
    h("section", { class: "results", id: "results", "aria-labelledby": "results-summary" },
      chips(state, labels),
      summary(state, result, hasFilters),
      state.page === 1 && result.entities?.hits?.length ? entityGroup(result.entities.hits) : null,
      hitGroups(result.hits.slice((state.page - 1) * PAGE_SIZE), terms),
      pager(state, result.total))));
}

function conceptLabels(nodes, out = new Map()) {
  for (const node of nodes) {
    out.set(node.uid, getLang() === "zh" ? node.label_zh || node.label_en : node.label_en);
    conceptLabels(node.children || [], out);
  }
  return out;
}

function homePage(state, tree) {
  return h("div", { class: "home" },
    h("section", { class: "card intro" },
      h("h1", {}, t("home.title")),
      h("p", {}, t("home.intro")),
      h("p", {}, t("home.try"), " ", EXAMPLES.map((q) => [h("a", { class: "example", href: stateHref({ q, filters: {}, page: 1, scheme: "topics" }) }, q), " "]))),
    taxonomySection(state, tree));
}

const narrow = () => matchMedia("(max-width: 720px)").matches;

function taxonomySection(state, tree, foldable = false) {
  const schemes = [["topics", t("taxonomy.topics")], ["product-categories", t("taxonomy.categories")]];
  const field = state.scheme === "topics" ? "topic" : "category";
  const title = h("h2", { id: "taxonomy-title" }, t("taxonomy.title"));
  return h(foldable ? "details" : "section", { class: "card taxonomy", id: "taxonomy", "aria-labelledby": "taxonomy-title",
                                               open: foldable && !narrow() },
    foldable ? h("summary", {}, title) : title,
    h("nav", { class: "tabs", "aria-label": t("taxonomy.scheme") },
      schemes.map(([scheme, label]) => h("a", {
        href: stateHref(state, { scheme, page: 1 }), "aria-current": scheme === state.scheme ? "page" : null,
      }, label))),
    taxonomyTree(tree.nodes, (node) => withFilter(state, field, node.uid, true), new Set(state.filters[field] || [])),
    tree.unclassified ? h("p", { class: "muted" }, t("taxonomy.unclassified", { n: formatNumber(tree.unclassified) })) : null);
}

function facetPanel(state, facets, labels) {
  const sections = FACET_ORDER.filter((f) => facets[f] && Object.keys(facets[f]).length).map((field) => {
    const active = new Set(state.filters[field] || []);
    const entries = Object.entries(facets[field]);
    const item = ([value, count]) => {
      const on = active.has(value) || [...active].some((a) => a.toLowerCase() === value.toLowerCase());
      const label = valueLabel(field, value, labels);
      return h("li", {}, h("a", {
        class: "facet-value", href: withFilter(state, field, value, !on), "aria-pressed": on ? "true" : "false",
        "data-field": field, "data-value": value,
        "aria-label": t("facet.add", { field: t(`facet.${field}`), value: label, count }),
      }, h("span", { class: "facet-label" }, label), h("span", { class: "count" }, formatNumber(count))));
    };
    const shown = entries.slice(0, FACET_SHOWN).map(item);
    const rest = entries.slice(FACET_SHOWN, 40).map(item);
    const more = rest.length ? h("details", { class: "more" }, h("summary", {}, `${t("facets.more")} (${rest.length})`), h("ul", {}, rest)) : null;
    return h("section", { class: "facet", "data-facet": field },
      h("h3", {}, t(`facet.${field}`)), h("ul", {}, shown), more);
  });
  return h("details", { class: "card facets", id: "facets", open: !narrow() },
    h("summary", {}, h("h2", {}, t("facets.title"))),
    sections,
    monthFacet(state, facets.month || {}));
}

function monthFacet(state, months) {
  const entries = Object.entries(months).sort(([a], [b]) => a.localeCompare(b)).slice(-24);
  if (!entries.length) return null;
  const max = Math.max(...entries.map(([, n]) => n));
  const chosen = state.filters.date_from?.[0];
  return h("section", { class: "facet", "data-facet": "month" },
    h("h3", {}, t("facet.month")),
    h("div", { class: "histogram" }, entries.map(([month, count]) => {
      const filters = { ...state.filters, date_from: [month], date_to: [month] };
      const bar = h("a", { class: "bar", href: stateHref(state, { filters, page: 1 }), title: `${month}: ${count}`,
                           "aria-label": t("facet.add", { field: t("facet.month"), value: month, count }),
                           "aria-pressed": chosen === month ? "true" : "false" });
      bar.style.height = `${Math.max(4, Math.round((count / max) * 100))}%`;  // CSSOM: allowed by the CSP
      return bar;
    })),
    h("div", { class: "histogram-axis muted" }, h("span", {}, entries[0][0]), h("span", {}, entries.at(-1)[0])));
}

function chips(state, labels) {
  const items = [];
  for (const [field, values] of Object.entries(state.filters)) {
    for (const value of values) {
      const label = `${t(`facet.${field}`)}: ${valueLabel(field, value, labels)}`;
      items.push(h("li", {}, h("a", { class: "chip", href: withFilter(state, field, value, false),
        "aria-label": t("chip.remove", { field: t(`facet.${field}`), value: valueLabel(field, value, labels) }) },
        label, h("span", { class: "x", "aria-hidden": "true" }, "×"))));
    }
  }
  if (!items.length) return null;
  if (items.length > 1) {
    items.push(h("li", {}, h("a", { class: "chip clear", href: stateHref(state, { filters: {}, page: 1 }) }, t("chips.clear"))));
  }
  return h("ul", { class: "chips", id: "chips", "aria-label": t("chips.label") }, items);
}

function summary(state, result, hasFilters) {
  const text = state.q
    ? t("results.summary", { total: formatNumber(result.total), q: state.q, took: formatNumber(result.took_ms, 0) })
    : t("results.summary.browse", { total: formatNumber(result.total) });
  return h("div", { class: "summary" },
    h("p", { id: "results-summary", role: "status" }, text),
    result.expanded_terms?.length ? h("p", { class: "muted expanded" }, t("results.expanded"), " ",
      result.expanded_terms.map((term) => h("span", { class: "term" }, term))) : null,
    !result.hits.length ? h("p", { class: "empty" }, t("results.none")) : null);
}

function entityGroup(hits) {
  return h("section", { class: "card entities", id: "entities" },
    h("h2", {}, t("results.entities")),
    h("ul", { class: "entity-list" }, hits.slice(0, 8).map((e) => h("li", {},
      h("a", { href: entityHref(e.uid, e.type), class: `entity-link type-${e.type}` },
        h("span", { class: "badge" }, t(`type.${e.type}`)), " ", e.name, e.name_zh && e.name_zh !== e.name ? ` · ${e.name_zh}` : "")))));
}

function hitGroups(hits, terms) {
  const groups = new Map();
  for (const hit of hits.slice(0, PAGE_SIZE)) {
    if (!groups.has(hit.type)) groups.set(hit.type, []);
    groups.get(hit.type).push(hit);
  }
  const order = [...groups.keys()].sort((a, b) => TYPE_ORDER.indexOf(a) - TYPE_ORDER.indexOf(b));
  return order.map((type) => h("section", { class: "group", "data-type": type, "aria-label": t(`type.${type}`) },
    h("h2", {}, `${t(`type.${type}`)} (${groups.get(type).length})`),
    groups.get(type).map((hit) => hitCard(hit, terms))));
}

const dateOf = (meta) => (meta.openedAt || meta.publishedAt || meta.effectiveFrom || "").slice(0, 10);

export function hitCard(hit, terms) {
  const meta = hit.meta || {};
  const facts = [];
  if (meta.status) facts.push(h("span", { class: `badge status-${meta.status}` }, meta.status));
  if (meta.priority) facts.push(h("span", { class: "badge" }, meta.priority));
  if (meta.product) facts.push(h("span", {}, `${t("meta.product")}: ${meta.product}`));
  if (meta.customer) {
    facts.push(h("span", {}, `${t("meta.customer")}: `,
      meta.customerUid ? h("a", { href: entityHref(meta.customerUid, "Customer") }, meta.customer) : meta.customer));
  }
  if (meta.resolvedBy) facts.push(h("span", { class: "resolved-by" }, `${t("meta.resolvedBy")}: ${meta.resolvedBy}`));
  if (meta.author) facts.push(h("span", {}, `${t("meta.author")}: ${meta.author}`));
  if (meta.topic) facts.push(h("span", {}, `${t("meta.topic")}: ${meta.topic}`));
  if (dateOf(meta)) facts.push(h("span", {}, dateOf(meta)));
  facts.push(h("span", { class: "badge lang" }, hit.language));
  return h("article", { class: "hit", "data-uid": hit.uid },
    h("h3", {}, h("a", { href: entityHref(hit.uid, hit.type), class: "hit-title" }, highlight(hit.title, terms))),
    h("p", { class: "snippet" }, highlight(hit.snippet, terms)),
    h("p", { class: "facts" }, h("span", { class: "uid" }, hit.uid), facts));
}

function pager(state, total) {
  const pages = Math.ceil(Math.min(total, MAX_HITS) / PAGE_SIZE);
  if (pages <= 1) return null;
  const link = (page, label, rel) => h("a", { href: stateHref(state, { page }), rel,
    "aria-current": page === state.page ? "page" : null, class: page === state.page ? "current" : null }, label);
  const numbers = [];
  for (let p = 1; p <= pages; p++) numbers.push(link(p, String(p)));
  return h("nav", { class: "pager", id: "pager", "aria-label": t("pager.label") },
    state.page > 1 ? link(state.page - 1, t("pager.prev"), "prev") : null,
    numbers,
    state.page < pages ? link(state.page + 1, t("pager.next"), "next") : null,
    h("span", { class: "muted" }, t("results.page", { page: state.page, pages })));
}

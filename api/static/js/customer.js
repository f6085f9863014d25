// The customer 360 page: everything about one customer, and a picture of its graph neighbourhood.
import { call } from "./api.js";
import { getLang, t } from "./i18n.js";
import { entityHref, formatNumber, h, mount } from "./dom.js";
import { neighbourhoodSvg } from "./graph.js";
import { whoKnowsCard } from "./knowledge.js";

const PROFILE_FIELDS = ["nameZh", "industry", "country", "city", "language", "email", "phone", "customerSince",
                        "valueTier", "churnRiskLevel"];

export async function customerView(main, route, ctx) {
  const uid = encodeURIComponent(route.arg);
  const [view, entity, dups] = await Promise.all([
    call(`/v1/customers/${uid}/360`),
    call(`/v1/entities/${uid}`, { params: { limit: 6 } }),
    call("/v1/duplicates", { params: { customer: route.arg } }).catch(() => ({ duplicates: [] })),
  ]);
  if (!ctx.alive()) return;
  const p = view.profile;
  const tx = view.transactions || {};
  const segmentName = (s) => (s ? (getLang() === "zh" && s.nameZh) || s.name || s.uid : "—");
  mount(main, h("div", { class: "customer-page", id: "customer", "data-uid": view.uid },
    h("section", { class: "card profile" },
      h("p", { class: "kicker" }, `${t("customer.title")} ${view.uid}`),
      h("h1", { id: "customer-name" }, p.name || view.uid),
      h("dl", { class: "props" },
        PROFILE_FIELDS.filter((f) => p[f] != null && p[f] !== "").map((f) => [h("dt", {}, f), h("dd", {}, String(p[f]))]),
        h("dt", {}, t("customer.segment")), h("dd", {}, segmentName(view.segment)),
        view.mined_segment ? [h("dt", {}, t("customer.mined")), h("dd", {}, segmentName(view.mined_segment))] : null,
        h("dt", {}, t("customer.orders")), h("dd", { id: "customer-orders" }, formatNumber(tx.orders || 0)),
        h("dt", {}, t("customer.total")), h("dd", {}, `${formatNumber(tx.total || 0, 2)} ${(tx.currencies || []).join("/")}`),
        h("dt", {}, t("customer.period")), h("dd", {}, `${(tx.first || "—").slice(0, 10)} / ${(tx.last || "—").slice(0, 10)}`))),
    h("section", { class: "card graph-card", "aria-labelledby": "graph-heading" },
      h("h2", { id: "graph-heading" }, t("customer.graph")), neighbourhoodSvg(entity)),
    h("div", { class: "columns" },
      caseList("open-cases", `${t("customer.open")} (${view.case_counts.open ?? 0})`, view.open_cases),
      caseList("closed-cases", `${t("customer.closed")} (${view.case_counts.closed ?? 0})`, view.closed_cases),
      listCard("top-products", t("customer.top"), view.top_products, (x) => [
        h("a", { href: entityHref(x.uid, "Product") }, x.name), h("span", { class: "muted" }, ` · ${formatNumber(x.spend || 0, 2)}`)]),
      listCard("customer-rules", t("customer.rules"), view.rules, (r) => [
        h("span", { class: "badge" }, t(`type.${r.type}`)), " ", h("a", { href: entityHref(r.uid, r.type) }, r.title || r.uid),
        r.via ? h("span", { class: "muted" }, ` · ${[].concat(r.via).join("; ")}`) : null]),
      listCard("account-team", t("customer.team"), view.account_team, (e) => [
        h("a", { href: entityHref(e.uid, "Employee") }, e.name), h("span", { class: "muted" }, ` · ${e.team || ""} ${e.jobTitle || ""}`)]),
      listCard("customer-experts", t("customer.experts"), view.experts, (e) => [
        h("a", { href: entityHref(e.uid, "Employee") }, e.name), h("span", { class: "muted" }, ` · ${e.team || ""} · ${(e.topics || []).join(", ")}`)]),
      whoKnowsCard(view.knowledge),
      listCard("recent-topics", t("customer.topics"), view.recent_topics, (topic) => [topic]),
      duplicateCard(view.uid, dups.duplicates || [], () => customerView(main, route, ctx)))));
}

// Possible duplicates: names alike, never merged automatically; an analyst merges (undoable) or dismisses.
function duplicateCard(uid, pairs, reload) {
  const decide = (pair, action) => async () => {
    try {
      await call(`/v1/duplicates/${pair.id}/${action}`, { method: "POST" });
      reload();
    } catch (err) {
      alert(err.message);
    }
  };
  return listCard("possible-duplicates", t("customer.duplicates"), pairs, (pair) => {
    const other = pair.customers.find((c) => c.uid !== uid) || pair.customers[1];
    const evidence = Object.entries(pair.evidence).map(([k, v]) => `${k}: ${v}`).join(", ");
    return [
      h("a", { href: entityHref(other.uid, "Customer") }, other.name || other.uid),
      h("span", { class: "muted" }, ` · ${other.email || other.phone || ""} · ${evidence}`), " ",
      h("button", { type: "button", class: "dup-merge", onclick: decide(pair, "merge") }, t("customer.dup.merge")), " ",
      h("button", { type: "button", class: "dup-dismiss", onclick: decide(pair, "dismiss") }, t("customer.dup.dismiss"))];
  });
}

const LIST_SHOWN = 10;

function listCard(id, title, items, render) {
  const rows = (items || []).map((item) => h("li", {}, render(item)));
  const rest = rows.splice(LIST_SHOWN);
  return h("section", { class: "card", id },
    h("h2", {}, title),
    rows.length ? h("ul", {}, rows) : h("p", { class: "muted" }, t("customer.none")),
    rest.length ? h("details", { class: "more" }, h("summary", {}, t("entity.more", { n: rest.length })), h("ul", {}, rest)) : null);
}

function caseList(id, title, cases) {
  return listCard(id, title, cases, (c) => [
    h("a", { href: entityHref(c.uid, "SupportCase") }, c.title || c.uid), " ",
    h("span", { class: `badge status-${c.status}` }, c.status),
    h("span", { class: "muted" }, ` · ${(c.openedAt || "").slice(0, 10)}${c.resolvedBy ? ` · ${c.resolvedBy}` : ""}`)]);
}

// Did acting on recommendations work? GET /v1/outcomes as a table and a plot of each uplift with its 95% interval.
import { call } from "./api.js";
import { t } from "./i18n.js";
import { formatNumber, h, mount, s } from "./dom.js";

const pct = (value) => (value == null ? "—" : `${formatNumber(value * 100, 1)}%`);

export async function outcomesView(main, route, ctx) {
  const body = await call("/v1/outcomes");
  if (!ctx.alive()) return;
  const items = body.items || [];
  mount(main, h("div", { class: "outcomes-page" },
    h("section", { class: "card" },
      h("h1", {}, t("outcomes.title")),
      h("p", { class: "muted" }, t("outcomes.intro")),
      h("p", { class: "muted", id: "outcomes-source" },
        body.source === "kcrm.mine" ? t("outcomes.stored", { at: body.computedAt || "" }) : t("outcomes.computed")),
      items.length ? plot(items) : h("p", { class: "empty" }, t("outcomes.none")),
      items.length ? table(items) : null,
      h("p", { class: "muted small" }, `${t("outcomes.method")}: ${body.method}`))));
}

/** One row per kind: the interval as a line, the uplift as a dot, zero marked (SVG, no library). */
function plot(items) {
  const width = 640, row = 44, left = 170, right = 24, top = 28;
  const height = top + row * items.length + 24;
  const lows = items.map((i) => i.ciLow ?? i.uplift ?? 0), highs = items.map((i) => i.ciHigh ?? i.uplift ?? 0);
  const min = Math.min(-0.1, ...lows), max = Math.max(0.1, ...highs);
  const x = (v) => left + ((v - min) / (max - min)) * (width - left - right);
  const ticks = [];
  for (let v = Math.ceil(min * 10) / 10; v <= max + 1e-9; v += 0.1) ticks.push(Math.round(v * 10) / 10);
  return s("svg", { class: "outcomes-plot", id: "outcomes-plot", viewBox: `0 0 ${width} ${height}`, role: "img",
                    "aria-label": t("outcomes.plot") },
    ticks.map((v) => [
      s("line", { x1: x(v), x2: x(v), y1: top - 8, y2: height - 20, class: v === 0 ? "zero" : "grid" }),
      s("text", { x: x(v), y: height - 6, "text-anchor": "middle", class: "tick" }, `${Math.round(v * 100)}%`)]),
    items.map((item, n) => {
      const y = top + n * row + row / 2;
      return s("g", { class: "outcome-row", "data-kind": item.kind },
        s("text", { x: 8, y: y + 4, class: "label" }, t(`outcomes.kind.${item.kind}`)),
        item.ciLow != null ? s("line", { x1: x(item.ciLow), x2: x(item.ciHigh), y1: y, y2: y, class: "interval" }) : null,
        item.uplift != null ? s("circle", { cx: x(item.uplift), cy: y, r: 5, class: "uplift" },
          s("title", {}, `${pct(item.uplift)} [${pct(item.ciLow)}, ${pct(item.ciHigh)}]`)) : null);
    }));
}

function table(items) {
  const heads = ["kind", "measure", "actions", "matched", "treated", "control", "uplift", "interval", "naive"];
  return h("table", { class: "outcomes-table", id: "outcomes-table" },
    h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(`outcomes.col.${k}`))))),
    h("tbody", {}, items.map((i) => h("tr", { "data-kind": i.kind },
      h("th", { scope: "row" }, t(`outcomes.kind.${i.kind}`)),
      h("td", {}, `${i.description} (${i.windowDays} ${t("outcomes.days")})`),
      h("td", {}, String(i.actions)), h("td", {}, String(i.matched)),
      h("td", {}, pct(i.treatedRate)), h("td", {}, pct(i.controlRate)),
      h("td", { class: "uplift" }, pct(i.uplift)), h("td", {}, `[${pct(i.ciLow)}, ${pct(i.ciHigh)}]`),
      h("td", {}, pct(i.naiveUplift))))));
}

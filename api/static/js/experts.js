// The expert finder (GET /v1/experts) and the expert card shared with the case page.
import { call } from "./api.js";
import { t } from "./i18n.js";
import { entityHref, formatNumber, h, mount, routeHref } from "./dom.js";

export async function expertsView(main, route, ctx) {
  const q = (route.params.get("q") || "").trim();
  const language = route.params.get("language") || "";
  const form = expertForm(q, language);
  if (!q) {
    mount(main, h("div", { class: "experts-page" }, form));
    form.querySelector("input").focus();
    return;
  }
  mount(main, h("div", { class: "experts-page" }, form, h("p", { class: "muted" }, t("loading"))));
  const result = await call("/v1/experts", { params: { q, language, k: 10 } });
  if (!ctx.alive()) return;
  const topics = Object.entries(result.topics || {}).sort(([, a], [, b]) => b - a).slice(0, 5);
  mount(main, h("div", { class: "experts-page" }, form,
    topics.length ? h("p", { class: "topics" }, t("experts.topics"), " ",
      topics.map(([topic, p]) => h("span", { class: "term" }, `${topic} ${formatNumber(p * 100)}%`))) : null,
    result.experts.length
      ? h("ol", { class: "expert-list", id: "expert-list" }, result.experts.map((e) => h("li", {}, expertCard(e))))
      : h("p", { class: "empty" }, t("experts.none"))));
}

function expertForm(q, language) {
  const input = h("input", { id: "experts-q", name: "q", type: "search", value: q, required: true, maxlength: 1000 });
  const select = h("select", { id: "experts-language", name: "language" },
    [["", t("experts.any")], ["en", t("lang.en")], ["zh", t("lang.zh")]].map(([value, label]) =>
      h("option", { value, selected: value === language }, label)));
  const form = h("form", { class: "card experts-form", id: "experts-form", role: "search" },
    h("h1", {}, t("experts.title")),
    h("p", { class: "muted" }, t("experts.intro")),
    h("div", { class: "row" },
      h("label", { for: "experts-q" }, t("experts.q")), input,
      h("label", { for: "experts-language" }, t("experts.language")), select,
      h("button", { type: "submit", id: "experts-submit" }, t("experts.submit"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (value) location.hash = routeHref("experts", { q: value, language: select.value });
  });
  return form;
}

/** One ranked expert with the evidence that ranked them: cases, documents, skills, ownership. */
export function expertCard(expert) {
  const evidence = (expert.evidence || []).slice(0, 5);
  const skills = (expert.skills || []).slice(0, 4);
  return h("article", { class: "card expert", "data-uid": expert.uid },
    h("header", {},
      h("h3", {}, h("a", { href: entityHref(expert.uid, "Employee"), class: "expert-name" }, expert.name)),
      h("span", { class: "score", title: t("experts.score") }, formatNumber(expert.score, 2))),
    h("p", { class: "facts" },
      h("span", {}, `${t("experts.team")}: ${expert.team || "—"}`),
      h("span", {}, `${t("experts.languages")}: ${(expert.languages || []).join(", ") || "—"}`),
      h("span", {}, `${t("experts.open")}: ${expert.open_cases}`)),
    componentBars(expert.components || {}),
    evidence.length ? h("div", { class: "evidence" }, h("h4", {}, t("experts.evidence")),
      h("ul", {}, evidence.map((e) => h("li", {},
        h("a", { href: entityHref(e.uid, e.type) }, e.title || e.uid), " ",
        h("code", { class: "path" }, e.path))))) : null,
    skills.length ? h("div", { class: "skills" }, h("h4", {}, t("experts.skills")),
      h("ul", {}, skills.map((s) => h("li", {}, h("code", { class: "path" }, s.path))))) : null,
    expert.owns?.length ? h("p", { class: "muted" }, `${t("experts.owns")}: `, expert.owns.slice(0, 3).map((p) => h("code", { class: "path" }, p))) : null);
}

function componentBars(components) {
  const entries = Object.entries(components).filter(([name]) => name !== "load_penalty");
  if (!entries.length) return null;
  const max = Math.max(1, ...entries.map(([, v]) => v));
  return h("dl", { class: "components", "aria-label": t("experts.why") }, entries.map(([name, value]) => {
    const bar = h("span", { class: "fill" });
    bar.style.width = `${Math.round((Math.max(0, value) / max) * 100)}%`;
    return [h("dt", {}, name), h("dd", { title: String(value) }, h("span", { class: "meter" }, bar), formatNumber(value, 2))];
  }));
}

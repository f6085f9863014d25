// The page's shell: sign-in, hash routing, the header, keyboard shortcuts and error display.
import { ApiError, onBusy, onUnauthorized, session } from "./api.js";
import { getLang, setLang, t } from "./i18n.js";
import { h, mount } from "./dom.js";
import { searchView } from "./search.js";
import { caseView } from "./case.js";
import { expertsView } from "./experts.js";
import { customerView } from "./customer.js";
import { entityView } from "./entity.js";
import { knowledgeMapView, knowledgeRiskView } from "./knowledge.js";
import { outcomesView } from "./outcomes.js";

const $ = (id) => document.getElementById(id);
const ROUTES = { "": searchView, search: searchView, case: caseView, experts: expertsView,
                 customer: customerView, entity: entityView,
                 "knowledge-map": knowledgeMapView, "knowledge-risk": knowledgeRiskView, outcomes: outcomesView };

let generation = 0;
let signInMessage = "";
let returnTo = "";
let shownView = null;

/** The current hash as {name, arg, params}: "#/case/CASE-1?x=1" -> case, CASE-1, x=1. */
export function currentRoute() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [name = "", ...rest] = path.split("/");
  return { name, arg: decodeURIComponent(rest.join("/")), params: new URLSearchParams(query) };
}

function applyLanguage() {
  setLang(getLang());
  document.title = t("app.title");
  $("skip-link").textContent = t("skip");
  $("q").placeholder = t("search.placeholder");
  $("q").setAttribute("aria-label", t("search.label"));
  $("search-submit").textContent = t("search.submit");
  $("nav-search").textContent = t("nav.search");
  $("nav-experts").textContent = t("nav.experts");
  $("nav-map").textContent = t("nav.map");
  $("nav-risk").textContent = t("nav.risk");
  $("nav-outcomes").textContent = t("nav.outcomes");
  $("sign-out").textContent = t("signout");
  const toggle = $("lang-toggle");
  toggle.textContent = t("lang.toggle");
  toggle.lang = getLang() === "zh" ? "en" : "zh";
  toggle.setAttribute("aria-label", t("lang.toggle.label"));
  $("progress").setAttribute("aria-label", t("loading"));
}

function showSignedIn(signedIn) {
  $("search-form").hidden = !signedIn;
  $("nav").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
}

function signInView(main) {
  shownView = null;
  showSignedIn(false);
  const input = h("input", { id: "api-key", name: "key", type: "password", required: true,
                             autocomplete: "current-password", "aria-describedby": "signin-intro" });
  const form = h("form", { class: "card signin", id: "signin-form" },
    h("h1", {}, t("signin.title")),
    h("p", { id: "signin-intro" }, t("signin.intro")),
    signInMessage ? h("p", { class: "error-text", role: "alert", id: "signin-message" }, signInMessage) : null,
    h("label", { for: "api-key" }, t("signin.key")), input,
    h("button", { type: "submit", id: "signin-submit" }, t("signin.submit")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    session.signIn(key);
    signInMessage = "";
    const target = returnTo || "#/";
    returnTo = "";
    if (location.hash === target) render(); else location.hash = target;
  });
  mount(main, form);
  main.removeAttribute("aria-busy");
  main.dataset.view = location.hash;
  input.focus();
}

/** A problem shown where the page would be, with what the server said and a way to retry. */
export function errorPanel(error) {
  const problem = error instanceof ApiError ? error.problem : { title: t("error.title"), detail: String(error) };
  const status = error instanceof ApiError && error.status ? ` (${error.status})` : "";
  return h("section", { class: "card error", role: "alert", id: "error" },
    h("h2", {}, `${problem.title}${status}`),
    problem.detail ? h("p", { class: "error-detail" }, problem.detail) : null,
    problem.errors?.length ? h("ul", {}, problem.errors.map((e) => h("li", {}, `${(e.location || []).join(".")}: ${e.message}`))) : null,
    h("button", { type: "button", onclick: () => render() }, t("error.retry")));
}

async function render() {
  const gen = ++generation;
  const main = $("main");
  applyLanguage();
  $("message").hidden = true;
  const route = currentRoute();
  if (!session.key) {
    if (route.name !== "signin") returnTo = location.hash || "#/";
    signInView(main);
    return;
  }
  showSignedIn(true);
  const view = ROUTES[route.name];
  if (!view) {
    shownView = null;
    mount(main, h("section", { class: "card error", role: "alert", id: "error" }, h("h2", {}, t("error.notfound"))));
    main.dataset.view = location.hash;
    return;
  }
  if (route.name !== "search" && route.name !== "") $("q").value = "";
  if (view !== shownView) mount(main, h("p", { class: "muted loading", id: "loading" }, t("loading")));
  shownView = view;
  const ctx = { alive: () => gen === generation, rerender: render };
  main.setAttribute("aria-busy", "true");
  delete main.dataset.view;
  try {
    await view(main, route, ctx);
  } catch (error) {
    if (!ctx.alive()) return;
    if (error instanceof ApiError && error.unauthorized) return;  // the handler has taken over
    shownView = null;
    mount(main, errorPanel(error));
  } finally {
    if (ctx.alive()) {
      main.removeAttribute("aria-busy");
      main.dataset.view = location.hash;  // what has been drawn, for people's tools and for tests
    }
  }
}

function start() {
  onBusy((isBusy) => {
    $("progress").hidden = !isBusy;
    document.body.classList.toggle("busy", isBusy);
  });
  onUnauthorized((error) => {
    session.signOut();
    const p = error.problem;
    signInMessage = t("signin.rejected", { status: error.status, title: p.title, detail: p.detail });
    returnTo = location.hash.startsWith("#/signin") ? "#/" : location.hash || "#/";
    generation++;  // whatever was loading is abandoned
    signInView($("main"));
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = $("q").value.trim();
    if (!q) return;
    location.hash = `#/search?q=${encodeURIComponent(q)}`;
  });
  $("lang-toggle").addEventListener("click", () => {
    setLang(getLang() === "zh" ? "en" : "zh");
    render();
  });
  $("sign-out").addEventListener("click", () => {
    session.signOut();
    signInMessage = t("signin.signedout");
    returnTo = "#/";
    if (location.hash === "#/signin") render(); else location.hash = "#/signin";
  });
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement
      || target instanceof HTMLSelectElement || target.isContentEditable;
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey && !$("search-form").hidden) {
      event.preventDefault();
      $("q").focus();
      $("q").select();
    } else if (event.key === "Escape" && target === $("q")) {
      $("q").blur();
    }
  });
  window.addEventListener("hashchange", render);
  render();
}

start();

// Small DOM helpers: build elements without innerHTML (so data is never parsed as markup).
const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.setAttribute("class", value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** An HTML element: h("a", {href: "#/"}, "text", otherNode). */
export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same calling convention as h(). */
export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

const escapeRe = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

/** Words worth marking in results: the query's own and the taxonomy's expansions. */
export function highlightTerms(query, expanded = []) {
  const words = new Set();
  const text = query.replace(/(?<!\S)\w+:("[^"]*"|\S+)/g, " ");
  for (const phrase of [text, ...expanded]) {
    for (const word of phrase.split(/[\s,，。；;:：!?？！()（）"“”']+/)) {
      if (!word) continue;
      if (CJK.test(word)) {
        words.add(word);
        for (let i = 0; i + 2 <= word.length && word.length > 2; i++) words.add(word.slice(i, i + 2));
      } else if (word.length > 2) {
        words.add(word);
      }
    }
  }
  return [...words].sort((a, b) => b.length - a.length);
}

/** `text` as nodes with every term wrapped in <mark>. */
export function highlight(text, terms) {
  if (!text) return [];
  if (!terms.length) return [text];
  const pattern = new RegExp(`(${terms.map(escapeRe).join("|")})`, "gi");
  return text.split(pattern).map((part, i) => (i % 2 ? h("mark", {}, part) : part)).filter((p) => p !== "");
}

/** Replace the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return el;
}

/** A hash link for a route and its parameters (arrays become repeated parameters). */
export function routeHref(path, params = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) if (v != null && v !== "") search.append(name, v);
  }
  const qs = search.toString();
  return `#/${path}${qs ? `?${qs}` : ""}`;
}

/** The page for an item or entity uid, by its type. */
export function entityHref(uid, type) {
  if (type === "SupportCase" || uid.startsWith("CASE-")) return `#/case/${encodeURIComponent(uid)}`;
  if (type === "Customer" || uid.startsWith("CUS-")) return `#/customer/${encodeURIComponent(uid)}`;
  return `#/entity/${encodeURIComponent(uid)}`;
}

export function formatNumber(value, digits = 0) {
  return Number(value).toLocaleString(document.documentElement.lang || "en", {
    maximumFractionDigits: digits, minimumFractionDigits: digits,
  });
}

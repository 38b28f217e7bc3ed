// One notification as the inbox lists it: its priority (a label, not a colour alone), title
// (a link only when safeLink allows it), body, category, team, age, occurrences, tags and
// expiry; its own action buttons; and the buttons for read, archive, snooze and delete, each
// named with the notification's title. Text from the server only ever goes in as text.
import { safeLink } from "./links.js";
import { relativeTime, shortDateTime } from "./times.js";

/**
 * @typedef {import("./store.js").Notification} Notification
 * @typedef {object} ItemContext
 * @property {import("./messages.js").Translate} t
 * @property {import("./store.js").View} view
 * @property {string | undefined} timeZone the user's, for absolute times
 * @property {Set<string>} snoozing notifications whose snooze presets are open
 */

/** @param {string} tag @param {string} [className] @param {string} [text] */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A button that the list's one click handler dispatches by `data-action`. */
export function button(/** @type {string} */ text, /** @type {string} */ action, /** @type {string} */ label, arg = "") {
  const b = /** @type {HTMLButtonElement} */ (el("button", action, text));
  b.type = "button";
  b.dataset.action = action;
  if (arg) b.dataset.arg = arg;
  if (label !== text) b.setAttribute("aria-label", label);
  return b;
}

/** The list item for `n`; `content` is a host's own rendering of it (renderItem), if any. */
export function itemNode(/** @type {Notification} */ n, /** @type {ItemContext} */ ctx, /** @type {Node | null} */ content) {
  const li = el("li", n.isRead ? "read" : "unread");
  li.dataset.id = n.id;
  li.setAttribute("part", `item${n.isRead ? "" : " item-unread"}${n.priority === "URGENT" ? " item-urgent" : ""}`);
  li.append(content ?? defaultContent(n, ctx));
  if (n.actions.length && ctx.view !== "archive") li.append(actionButtons(n, ctx));
  li.append(menu(n, ctx));
  return li;
}

function defaultContent(/** @type {Notification} */ n, /** @type {ItemContext} */ ctx) {
  const { t } = ctx;
  const text = el("div", "text");
  const heading = el("div");
  if (!n.isRead) {
    heading.append(el("span", "dot"), el("span", "sr-only", `${t("unread")}: `));
  }
  if (n.priority === "URGENT" || n.priority === "HIGH") {
    const label = el("span", `priority ${n.priority.toLowerCase()}`, `${n.priority === "URGENT" ? "⚠ " : "▲ "}${t(n.priority.toLowerCase())}`);
    label.setAttribute("part", "priority");
    heading.append(label);
  }
  const href = safeLink(n.link); // an unsafe link leaves the title as text
  const title = el(href ? "a" : "span", "title", n.title);
  title.id = `title-${n.id}`;
  if (href) title.setAttribute("href", href);
  heading.append(title);
  text.append(heading);
  if (n.body) text.append(el("p", "body", n.body));
  text.append(meta(n, ctx));
  return text;
}

function meta(/** @type {Notification} */ n, /** @type {ItemContext} */ { t, timeZone }) {
  const meta = el("div", "meta");
  const parts = [n.category];
  if (n.team) parts.push(t("via", { team: n.team.name }));
  parts.push(relativeTime(n.createdAt, t.locale));
  meta.append(el("span", "", parts.join(" · ")));
  if (n.occurrences > 1) {
    const times = el("span", "occurrences", `×${new Intl.NumberFormat(t.locale).format(n.occurrences)}`);
    times.setAttribute("aria-label", t("occurrences", { count: n.occurrences }));
    times.setAttribute("role", "img");
    meta.append(times);
  }
  for (const tag of n.tags) meta.append(el("span", "tag", tag));
  if (n.snoozedUntil) meta.append(el("span", "", t("snoozedUntil", { time: shortDateTime(n.snoozedUntil, t.locale, timeZone) })));
  if (n.expiresAt) meta.append(el("span", "", t("expires", { time: relativeTime(n.expiresAt, t.locale) })));
  return meta;
}

function actionButtons(/** @type {Notification} */ n, /** @type {ItemContext} */ { t }) {
  const group = el("div", "actions");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", t("itemActions", { title: n.title }));
  for (const action of n.actions) {
    const b = button(action.label, "act", t("itemAction", { action: action.label, title: n.title }), action.id);
    if (action.primary) b.classList.add("primary");
    b.setAttribute("part", action.primary ? "action action-primary" : "action");
    group.append(b);
  }
  return group;
}

function menu(/** @type {Notification} */ n, /** @type {ItemContext} */ ctx) {
  const { t, view, snoozing } = ctx;
  const named = (/** @type {string} */ key) => t("itemAction", { action: t(key), title: n.title });
  const m = el("div", "menu");
  const add = (/** @type {string} */ key, /** @type {string} */ action, arg = "") => {
    const b = button(t(key), action, named(key), arg);
    m.append(b);
    return b;
  };
  add(n.isRead ? "markUnread" : "markRead", n.isRead ? "unread" : "read");
  if (view === "archive") add("unarchive", "unarchive");
  else add("archive", "archive");
  if (view === "snoozed") add("unsnooze", "unsnooze");
  else if (view === "inbox") {
    const toggle = add("snooze", "snooze-menu");
    toggle.setAttribute("aria-expanded", String(snoozing.has(n.id)));
    toggle.setAttribute("aria-controls", `snooze-${n.id}`);
  }
  add("delete", "delete");
  if (view !== "inbox" || !snoozing.has(n.id)) return m;
  const presets = el("div", "presets");
  presets.id = `snooze-${n.id}`;
  for (const [key, preset] of [["snoozeHour", "hour"], ["snoozeTomorrow", "tomorrow"], ["snoozeWeek", "week"]]) {
    presets.append(button(t(key), "snooze", t("itemAction", { action: `${t("snooze")} – ${t(key)}`, title: n.title }), preset));
  }
  const wrap = el("div");
  wrap.append(m, presets);
  return wrap;
}

// The preferences panel inside the popover: for each category, a switch per channel showing the
// viewer's effective setting (marked "default" where the catalogue or the tenant decides, locked
// where a critical category keeps in-app on), and the quiet hours. Changes go to the API at once.
import { el } from "./items.js";

/**
 * @typedef {import("./preferences.js").Preferences} Preferences
 * @typedef {import("./preferences.js").CategorySettings} CategorySettings
 * @typedef {object} PanelHandlers
 * @property {(category: string, channel: string, enabled: boolean) => void} set
 * @property {(category: CategorySettings) => void} reset
 * @property {(input: {start: string, end: string, enabled: boolean}) => void} quietHours
 */

/**
 * @param {Preferences} prefs @param {string[]} channels those to show, in order
 * @param {import("./messages.js").Translate} t @param {PanelHandlers} on
 */
export function preferencesPanel(prefs, channels, t, on) {
  const panel = el("div", "panel");
  for (const category of prefs.categories) panel.append(categoryFieldset(category, channels, t, on));
  panel.append(quietHoursForm(prefs, t, on));
  return panel;
}

/** @param {CategorySettings} category @param {string[]} channels @param {import("./messages.js").Translate} t @param {PanelHandlers} on */
function categoryFieldset(category, channels, t, on) {
  const set = el("fieldset");
  set.dataset.category = category.key;
  set.setAttribute("part", "preference");
  const legend = el("legend", "", category.label);
  set.append(legend);
  const row = el("div", "channels");
  row.setAttribute("role", "group");
  row.setAttribute("aria-label", t("channels", { category: category.label }));
  for (const setting of category.channels.filter((c) => channels.includes(c.channel))) {
    const label = el("label");
    const box = /** @type {HTMLInputElement} */ (el("input"));
    box.type = "checkbox";
    box.checked = setting.enabled;
    box.dataset.channel = setting.channel;
    const locked = setting.source === "CRITICAL";
    box.disabled = locked;
    box.addEventListener("change", () => on.set(category.key, setting.channel, box.checked));
    label.append(box, el("span", "", t(setting.channel)));
    if (locked || setting.source !== "USER") label.append(el("span", "hint", `(${t(locked ? "alwaysOn" : "byDefault")})`));
    row.append(label);
  }
  set.append(row);
  if (category.channels.some((c) => c.source === "USER")) {
    const reset = /** @type {HTMLButtonElement} */ (el("button", "link-button", t("useDefaults")));
    reset.type = "button";
    reset.setAttribute("aria-label", `${t("useDefaults")}: ${category.label}`);
    reset.addEventListener("click", () => on.reset(category));
    set.append(reset);
  }
  return set;
}

/** @param {Preferences} prefs @param {import("./messages.js").Translate} t @param {PanelHandlers} on */
function quietHoursForm(prefs, t, on) {
  const quiet = prefs.quietHours ?? { start: "22:00", end: "07:00", enabled: false, timezone: prefs.timezone ?? "" };
  const set = el("fieldset", "quiet-hours");
  set.append(el("legend", "", t("quietHours")));
  const form = /** @type {HTMLFormElement} */ (el("form", "quiet"));
  const field = (/** @type {string} */ name, /** @type {string} */ type, /** @type {string} */ text) => {
    const label = el("label");
    const input = /** @type {HTMLInputElement} */ (el("input"));
    input.type = type;
    input.name = name;
    label.append(...(type === "checkbox" ? [input, el("span", "", text)] : [el("span", "", text), input]));
    form.append(label);
    return input;
  };
  const enabled = field("enabled", "checkbox", t("quietEnabled"));
  enabled.checked = quiet.enabled;
  const start = field("start", "time", t("quietFrom"));
  start.value = quiet.start;
  const end = field("end", "time", t("quietTo"));
  end.value = quiet.end;
  const save = /** @type {HTMLButtonElement} */ (el("button", "chip-button", t("save")));
  save.type = "submit";
  form.append(save);
  const status = el("span", "hint");
  status.setAttribute("role", "status");
  form.append(status);
  if (quiet.timezone) form.append(el("span", "hint", t("quietTimezone", { timezone: quiet.timezone })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    on.quietHours({ start: start.value, end: end.value, enabled: enabled.checked });
  });
  set.append(form);
  return set;
}

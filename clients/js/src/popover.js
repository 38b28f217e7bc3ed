// Parts of the popover that need nothing of the element's state: where it goes on the page, the
// tabs and the category filter.
import { button } from "./items.js";

/** Space kept between the popover and the viewport's edges (px). */
const MARGIN = 8;

/** @typedef {{label: string, tags: string[]}} Tab */

/** Puts the popover below the bell, inside the viewport whatever its width and the bell's place. */
export function placePopover(/** @type {HTMLElement} */ popover, /** @type {HTMLElement} */ bell) {
  const style = popover.style;
  style.left = style.top = style.width = style.maxHeight = "";
  const viewport = { width: document.documentElement.clientWidth, height: innerHeight };
  const anchor = bell.getBoundingClientRect();
  const width = Math.min(popover.getBoundingClientRect().width, viewport.width - 2 * MARGIN);
  const left = Math.max(MARGIN, Math.min(anchor.right - width, viewport.width - MARGIN - width));
  const top = Math.max(MARGIN, Math.min(anchor.bottom + 6, viewport.height - MARGIN - 200));
  style.width = `${width}px`;
  style.left = `${left}px`;
  style.top = `${top}px`;
  style.maxHeight = `${viewport.height - top - MARGIN}px`;
}

/** The `tabs` attribute's tabs; none when it is missing or not JSON of that shape. */
export function parseTabs(/** @type {string | null} */ raw) {
  if (!raw) return /** @type {Tab[]} */ ([]);
  try {
    const tabs = JSON.parse(raw);
    return Array.isArray(tabs) ? tabs.filter((tab) => tab && typeof tab.label === "string" && Array.isArray(tab.tags)) : [];
  } catch {
    console.warn('<belfry-inbox>: tabs must be JSON: [{"label": ..., "tags": [...]}]');
    return [];
  }
}

/** The tab list (WAI-ARIA tabs: the chosen one is selected and the one Tab reaches). */
export function renderTabs(/** @type {HTMLElement} */ list, /** @type {string[]} */ labels, /** @type {number} */ chosen) {
  if (list.dataset.labels !== labels.join("\n")) {
    list.dataset.labels = labels.join("\n");
    list.replaceChildren(
      ...labels.map((label, i) => {
        const tab = button(label, "tab", label, String(i));
        tab.setAttribute("role", "tab");
        tab.setAttribute("part", "tab");
        tab.setAttribute("aria-controls", "belfry-panel");
        tab.id = `belfry-tab-${i}`;
        return tab;
      }),
    );
  }
  for (const tab of /** @type {HTMLElement[]} */ ([...list.children])) {
    const selected = Number(tab.dataset.arg) === chosen;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
}

/**
 * The category filter's options (rebuilt only when the categories or the language change).
 * @param {HTMLSelectElement} select @param {{key: string, label: string}[]} categories
 * @param {string} allLabel @param {string | null} chosen
 */
export function renderCategories(select, categories, allLabel, chosen) {
  const wanted = [allLabel, ...categories.map((c) => c.key)].join("\n");
  if (select.dataset.keys !== wanted) {
    select.dataset.keys = wanted;
    select.replaceChildren(new Option(allLabel, ""), ...categories.map((c) => new Option(c.label, c.key)));
  }
  select.value = chosen ?? "";
}

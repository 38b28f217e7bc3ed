// What the popover does for keyboard and screen-reader users, after the WAI-ARIA dialog
// pattern: focus moves in when it opens and stays in while it is open (Tab and Shift+Tab wrap),
// and survives the list being rendered anew; new notifications are read out through live
// regions (assertive for URGENT ones).

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The elements of `root` that Tab reaches, in order (hidden ones left out). */
export function focusables(/** @type {HTMLElement} */ root) {
  return /** @type {HTMLElement[]} */ ([...root.querySelectorAll(FOCUSABLE)]).filter((node) => node.getClientRects().length > 0);
}

/**
 * Keeps Tab inside `root`: from its last element to its first, and back.
 * @param {HTMLElement} root @param {() => Element | null} active the focused element in the shadow root
 */
export function trapFocus(root, active) {
  root.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const all = focusables(root);
    if (!all.length) return;
    const first = all[0];
    const last = all[all.length - 1];
    const now = active();
    if (event.shiftKey && (now === first || !root.contains(now))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (now === last || !root.contains(now))) {
      event.preventDefault();
      first.focus();
    }
  });
}

/**
 * Two live regions in `root`: polite and assertive. `say` replaces what the chosen one holds,
 * which screen readers then read.
 * @param {HTMLElement} polite @param {HTMLElement} assertive
 */
export function announcer(polite, assertive) {
  return (/** @type {string} */ text, urgent = false) => {
    const region = urgent ? assertive : polite;
    region.textContent = "";
    // Set in a later task: some readers skip a change to the text they just read.
    setTimeout(() => (region.textContent = text), 50);
  };
}

/**
 * What has focus in `list` or `panel`, to find its like again after they are rendered anew.
 * @param {ShadowRoot} root @param {HTMLElement} list @param {HTMLElement} panel
 */
export function focusKey(root, list, panel) {
  const active = /** @type {HTMLElement | null} */ (root.activeElement);
  if (!active || !(list.contains(active) || panel.contains(active))) return null;
  const item = /** @type {HTMLElement | null} */ (active.closest("li"));
  return {
    id: item?.dataset.id ?? null,
    index: item ? [...list.children].indexOf(item) : -1,
    action: active.dataset.action ?? null,
    arg: active.dataset.arg ?? null,
    category: /** @type {HTMLElement | null} */ (active.closest("fieldset"))?.dataset.category ?? null,
    channel: active.dataset.channel ?? null,
    name: active.getAttribute("name"),
  };
}

/**
 * Focus back on what had it before the render (the same button of the same item, the same
 * switch), or near it when it is gone: the next item, else the first control of `dialog`.
 * @param {ShadowRoot} root @param {ReturnType<typeof focusKey>} key
 * @param {HTMLElement} list @param {HTMLElement} panel @param {HTMLElement} dialog
 */
export function restoreFocus(root, key, list, panel, dialog) {
  if (!key || (root.activeElement && root.activeElement.isConnected)) return;
  /** @type {HTMLElement | null | undefined} */
  let target;
  if (key.category) {
    const set = [...panel.querySelectorAll("fieldset")].find((f) => f.dataset.category === key.category);
    const controls = /** @type {HTMLElement[]} */ ([...(set?.querySelectorAll("input, button") ?? [])]);
    target = controls.find((n) => n.dataset.channel === key.channel) ?? controls[0];
  } else if (key.name) target = panel.querySelector(`[name="${key.name}"]`);
  else {
    const items = /** @type {HTMLElement[]} */ ([...list.children]);
    const same = items.find((li) => li.dataset.id === key.id);
    const buttons = /** @type {HTMLElement[]} */ ([...(same?.querySelectorAll("button") ?? [])]);
    target =
      buttons.find((b) => b.dataset.action === key.action && (b.dataset.arg ?? null) === key.arg) ??
      buttons.find((b) => b.dataset.action === key.action) ??
      buttons[0] ??
      items[Math.min(key.index, items.length - 1)]?.querySelector("button");
  }
  (target ?? focusables(dialog)[0] ?? dialog).focus();
}

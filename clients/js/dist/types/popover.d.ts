/** @typedef {{label: string, tags: string[]}} Tab */
/** Puts the popover below the bell, inside the viewport whatever its width and the bell's place. */
export function placePopover(popover: HTMLElement, bell: HTMLElement): void;
/** The `tabs` attribute's tabs; none when it is missing or not JSON of that shape. */
export function parseTabs(raw: string | null): any[];
/** The tab list (WAI-ARIA tabs: the chosen one is selected and the one Tab reaches). */
export function renderTabs(list: HTMLElement, labels: string[], chosen: number): void;
/**
 * The category filter's options (rebuilt only when the categories or the language change).
 * @param {HTMLSelectElement} select @param {{key: string, label: string}[]} categories
 * @param {string} allLabel @param {string | null} chosen
 */
export function renderCategories(select: HTMLSelectElement, categories: {
    key: string;
    label: string;
}[], allLabel: string, chosen: string | null): void;
export type Tab = {
    label: string;
    tags: string[];
};

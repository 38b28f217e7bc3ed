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
export function preferencesPanel(prefs: Preferences, channels: string[], t: import("./messages.js").Translate, on: PanelHandlers): HTMLElement;
export type Preferences = import("./preferences.js").Preferences;
export type CategorySettings = import("./preferences.js").CategorySettings;
export type PanelHandlers = {
    set: (category: string, channel: string, enabled: boolean) => void;
    reset: (category: CategorySettings) => void;
    quietHours: (input: {
        start: string;
        end: string;
        enabled: boolean;
    }) => void;
};

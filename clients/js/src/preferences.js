// The viewer's notification preferences, as a preferences panel shows them: for each category of
// the tenant's catalogue, whether each channel is on, and where that comes from (the catalogue's
// or the tenant's default, the user's own choice, or a critical category's in-app that cannot be
// switched off), and their quiet hours.

const LOAD = `query BelfryPreferences {
  preferences(scope: EFFECTIVE) { category channels { channel enabled } sources { channel source } }
  eventCategories { categories { key description critical } }
  viewer { timezone quietHours { start end timezone days enabled } }
}`;
const UPDATE = `mutation BelfryUpdatePreference($input: PreferenceInput!) {
  updateMyPreference(input: $input) { category }
}`;
const QUIET = `mutation BelfryQuietHours($input: QuietHoursInput!) {
  updateMyQuietHours(input: $input) { start end timezone days enabled }
}`;

/**
 * @typedef {"CATALOGUE" | "TENANT" | "USER" | "CRITICAL"} PreferenceSource
 * @typedef {{channel: string, enabled: boolean, source: PreferenceSource}} ChannelSetting
 * @typedef {{key: string, label: string, critical: boolean, channels: ChannelSetting[]}} CategorySettings
 * @typedef {{start: string, end: string, timezone: string, days: string[], enabled: boolean}} QuietHours
 * @typedef {{categories: CategorySettings[], quietHours: QuietHours | null, timezone: string | null}} Preferences
 */

/** @param {ReturnType<typeof import("./client.js").createBelfryClient>} client */
export function createPreferences(client) {
  return {
    /** @returns {Promise<Preferences>} */
    async load() {
      const data = await client.request(LOAD);
      /** @type {Map<string, {description: string, critical: boolean}>} */
      const catalogue = new Map();
      for (const group of data.eventCategories) for (const c of group.categories) catalogue.set(c.key, c);
      const categories = data.preferences.map((/** @type {any} */ p) => {
        const sources = new Map(p.sources.map((/** @type {any} */ s) => [s.channel, s.source]));
        const known = catalogue.get(p.category);
        return {
          key: p.category,
          label: known?.description || p.category,
          critical: known?.critical ?? false,
          channels: p.channels.map((/** @type {any} */ c) => ({
            channel: c.channel,
            enabled: Boolean(c.enabled),
            source: sources.get(c.channel) ?? "CATALOGUE",
          })),
        };
      });
      return { categories, quietHours: data.viewer.quietHours, timezone: data.viewer.timezone };
    },
    /**
     * Switches one channel of one category for the viewer; null hands it back to the default.
     * @param {string} category @param {string} channel @param {boolean | null} enabled
     */
    async set(category, channel, enabled) {
      await client.request(UPDATE, { input: { category, channels: [{ channel, enabled }] } });
    },
    /** Every channel of `category` back to the default. @param {CategorySettings} category */
    async reset(category) {
      const channels = category.channels.filter((c) => c.source === "USER").map((c) => ({ channel: c.channel, enabled: null }));
      if (channels.length) await client.request(UPDATE, { input: { category: category.key, channels } });
    },
    /** @param {{start: string, end: string, enabled: boolean, timezone?: string | null, days?: string[] | null}} input */
    async setQuietHours(input) {
      return /** @type {QuietHours} */ ((await client.request(QUIET, { input })).updateMyQuietHours);
    },
  };
}

/**
 * @typedef {"CATALOGUE" | "TENANT" | "USER" | "CRITICAL"} PreferenceSource
 * @typedef {{channel: string, enabled: boolean, source: PreferenceSource}} ChannelSetting
 * @typedef {{key: string, label: string, critical: boolean, channels: ChannelSetting[]}} CategorySettings
 * @typedef {{start: string, end: string, timezone: string, days: string[], enabled: boolean}} QuietHours
 * @typedef {{categories: CategorySettings[], quietHours: QuietHours | null, timezone: string | null}} Preferences
 */
/** @param {ReturnType<typeof import("./client.js").createBelfryClient>} client */
export function createPreferences(client: ReturnType<typeof import("./client.js").createBelfryClient>): {
    /** @returns {Promise<Preferences>} */
    load(): Promise<Preferences>;
    /**
     * Switches one channel of one category for the viewer; null hands it back to the default.
     * @param {string} category @param {string} channel @param {boolean | null} enabled
     */
    set(category: string, channel: string, enabled: boolean | null): Promise<void>;
    /** Every channel of `category` back to the default. @param {CategorySettings} category */
    reset(category: CategorySettings): Promise<void>;
    /** @param {{start: string, end: string, enabled: boolean, timezone?: string | null, days?: string[] | null}} input */
    setQuietHours(input: {
        start: string;
        end: string;
        enabled: boolean;
        timezone?: string | null;
        days?: string[] | null;
    }): Promise<QuietHours>;
};
export type PreferenceSource = "CATALOGUE" | "TENANT" | "USER" | "CRITICAL";
export type ChannelSetting = {
    channel: string;
    enabled: boolean;
    source: PreferenceSource;
};
export type CategorySettings = {
    key: string;
    label: string;
    critical: boolean;
    channels: ChannelSetting[];
};
export type QuietHours = {
    start: string;
    end: string;
    timezone: string;
    days: string[];
    enabled: boolean;
};
export type Preferences = {
    categories: CategorySettings[];
    quietHours: QuietHours | null;
    timezone: string | null;
};

/** "5 minutes ago", "in 2 hours", "yesterday", in `locale`. */
export function relativeTime(iso: string, locale: string, now?: number): string;
/** A date and time in `locale` and `timeZone` ("Tue, 9:00 AM"). */
export function shortDateTime(iso: string, locale: string, timeZone: string | undefined): string;
/** The instant at which `timeZone`'s clocks show this date (days may overflow) at hour:00. */
export function zonedTime(year: number, month: number, day: number, hour: number, timeZone: string | undefined): Date;
/**
 * The snooze presets from `now`: in an hour; tomorrow at 09:00 in `timeZone`; next Monday at
 * 09:00 there.
 * @param {Date} now @param {string | undefined} timeZone an IANA name; the browser's if undefined
 */
export function snoozePresets(now: Date, timeZone: string | undefined): {
    hour: Date;
    tomorrow: Date;
    week: Date;
};
/** Whether `timeZone` is one this browser knows. */
export function knownTimeZone(timeZone: string | null | undefined): boolean;

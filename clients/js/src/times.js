// Times as the inbox shows them (relative, in the viewer's locale) and the snooze presets, which
// are local times in the user's timezone: "tomorrow morning" is 09:00 there, wherever the
// browser is.

const UNITS = /** @type {const} */ ([
  [60, "second", 1],
  [3600, "minute", 60],
  [86400, "hour", 3600],
  [604800, "day", 86400],
  [Infinity, "week", 604800],
]);

/** "5 minutes ago", "in 2 hours", "yesterday", in `locale`. */
export function relativeTime(/** @type {string} */ iso, /** @type {string} */ locale, now = Date.now()) {
  const seconds = (Date.parse(iso) - now) / 1000;
  const [, unit, size] = UNITS.find(([limit]) => Math.abs(seconds) < limit) ?? UNITS[4];
  return new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(Math.round(seconds / size), unit);
}

/** A date and time in `locale` and `timeZone` ("Tue, 9:00 AM"). */
export function shortDateTime(/** @type {string} */ iso, /** @type {string} */ locale, /** @type {string | undefined} */ timeZone) {
  return new Intl.DateTimeFormat(locale, { weekday: "short", hour: "numeric", minute: "2-digit", timeZone }).format(
    new Date(iso),
  );
}

/** The wall-clock fields of `at` in `timeZone`. */
function wallClock(/** @type {Date} */ at, /** @type {string | undefined} */ timeZone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    weekday: "short",
  }).formatToParts(at);
  const get = (/** @type {string} */ type) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    year: Number(get("year")),
    month: Number(get("month")),
    day: Number(get("day")),
    hour: Number(get("hour")),
    minute: Number(get("minute")),
    weekday: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(get("weekday")), // 0: Monday
  };
}

/** The instant at which `timeZone`'s clocks show this date (days may overflow) at hour:00. */
export function zonedTime(
  /** @type {number} */ year,
  /** @type {number} */ month,
  /** @type {number} */ day,
  /** @type {number} */ hour,
  /** @type {string | undefined} */ timeZone,
) {
  const wanted = Date.UTC(year, month - 1, day, hour);
  let guess = wanted;
  // Twice: the offset at the first guess may differ from the one at the answer (a DST change).
  for (let i = 0; i < 2; i++) {
    const w = wallClock(new Date(guess), timeZone);
    const shown = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
    guess += wanted - shown;
  }
  return new Date(guess);
}

/** The hour "morning" means for the presets. */
const MORNING = 9;

/**
 * The snooze presets from `now`: in an hour; tomorrow at 09:00 in `timeZone`; next Monday at
 * 09:00 there.
 * @param {Date} now @param {string | undefined} timeZone an IANA name; the browser's if undefined
 */
export function snoozePresets(now, timeZone) {
  const today = wallClock(now, timeZone);
  return {
    hour: new Date(now.getTime() + 3600_000),
    tomorrow: zonedTime(today.year, today.month, today.day + 1, MORNING, timeZone),
    week: zonedTime(today.year, today.month, today.day + (7 - today.weekday), MORNING, timeZone),
  };
}

/** Whether `timeZone` is one this browser knows. */
export function knownTimeZone(/** @type {string | null | undefined} */ timeZone) {
  if (!timeZone) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone });
    return true;
  } catch {
    return false;
  }
}

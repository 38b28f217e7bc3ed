// The element's shadow stylesheet. Every colour, the font, the radius and the sizes come from
// CSS custom properties (documented in the README), which inherit through the shadow boundary:
// a page themes the inbox by setting them on `belfry-inbox` or any ancestor. The dark theme
// reads the `--belfry-dark-*` ones; it applies with theme="dark", and with theme="auto" (the
// default) when the system prefers dark. Both palettes meet WCAG 2.2 AA contrast.
const LIGHT = `
  --_accent: var(--belfry-accent, #1d4ed8);
  --_on-accent: var(--belfry-on-accent, #ffffff);
  --_bg: var(--belfry-bg, #ffffff);
  --_fg: var(--belfry-fg, #111827);
  --_muted: var(--belfry-muted, #4b5563);
  --_border: var(--belfry-border, #d1d5db);
  --_unread-bg: var(--belfry-unread-bg, #eff6ff);
  --_hover: var(--belfry-hover-bg, rgba(0, 0, 0, 0.06));
  --_badge-bg: var(--belfry-badge-bg, #b91c1c);
  --_badge-fg: var(--belfry-badge-color, #ffffff);
  --_urgent-bg: var(--belfry-urgent-bg, #fee2e2);
  --_urgent-fg: var(--belfry-urgent-fg, #991b1b);
  --_high-bg: var(--belfry-high-bg, #fef3c7);
  --_high-fg: var(--belfry-high-fg, #92400e);
  --_shadow: var(--belfry-shadow, 0 10px 30px rgba(0, 0, 0, 0.15));
  color-scheme: light;`;
const DARK = `
  --_accent: var(--belfry-dark-accent, #93c5fd);
  --_on-accent: var(--belfry-dark-on-accent, #111827);
  --_bg: var(--belfry-dark-bg, #111827);
  --_fg: var(--belfry-dark-fg, #f9fafb);
  --_muted: var(--belfry-dark-muted, #b6bdc8);
  --_border: var(--belfry-dark-border, #4b5563);
  --_unread-bg: var(--belfry-dark-unread-bg, #1e293b);
  --_hover: var(--belfry-dark-hover-bg, rgba(255, 255, 255, 0.08));
  --_badge-bg: var(--belfry-dark-badge-bg, #f87171);
  --_badge-fg: var(--belfry-dark-badge-color, #111827);
  --_urgent-bg: var(--belfry-dark-urgent-bg, #7f1d1d);
  --_urgent-fg: var(--belfry-dark-urgent-fg, #fee2e2);
  --_high-bg: var(--belfry-dark-high-bg, #78350f);
  --_high-fg: var(--belfry-dark-high-fg, #fef3c7);
  --_shadow: var(--belfry-dark-shadow, 0 10px 30px rgba(0, 0, 0, 0.5));
  color-scheme: dark;`;

/** @type {string} */
export const STYLES = `
:host {${LIGHT}
  --_radius: var(--belfry-radius, 10px);
  display: inline-block;
  position: relative;
  font-family: var(--belfry-font, system-ui, -apple-system, "Segoe UI", sans-serif);
  font-size: var(--belfry-font-size, 14px);
  color: inherit;
}
:host([theme="dark"]) {${DARK}}
@media (prefers-color-scheme: dark) { :host(:not([theme="light"])) {${DARK}} }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
button, select, input { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus-visible { outline: 2px solid var(--_accent); outline-offset: 1px; }
.sr-only {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.bell {
  position: relative; display: inline-flex; align-items: center; justify-content: center;
  width: 40px; height: 40px; border: 0; border-radius: 50%; background: transparent;
  color: var(--belfry-bell-color, currentColor);
}
.bell:hover, .bell[aria-expanded="true"] { background: var(--belfry-bell-hover-bg, rgba(127, 127, 127, 0.15)); }
.bell svg { width: 22px; height: 22px; }
.badge {
  position: absolute; top: 2px; right: 0; min-width: 18px; height: 18px; padding: 0 5px;
  border-radius: 9px; font-size: 11px; font-weight: 600; line-height: 18px;
  text-align: center; background: var(--_badge-bg); color: var(--_badge-fg);
}
.popover {
  position: fixed; z-index: var(--belfry-z-index, 1000); display: flex; flex-direction: column;
  width: var(--belfry-width, 380px); background: var(--_bg); color: var(--_fg);
  border: 1px solid var(--_border); border-radius: var(--_radius);
  box-shadow: var(--_shadow); overflow: hidden; text-align: start;
}
header { padding: 10px 12px 6px; border-bottom: 1px solid var(--_border); display: grid; gap: 8px; }
.top, .filters { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
h2 { flex: 1; margin: 0; font-size: 1.05em; font-weight: 600; }
.chip-button, select, .link-button, .actions button, .menu button, .panel button, .state button {
  font-size: 0.85em; padding: 4px 8px; border: 1px solid var(--_border);
  border-radius: calc(var(--_radius) / 2); background: var(--_bg); color: var(--_fg);
}
.link-button { color: var(--_accent); border-color: transparent; background: transparent; }
.link-button:hover, .chip-button:hover, .actions button:hover, .menu button:hover { background: var(--_hover); }
select { max-width: 150px; }
.views { display: inline-flex; border: 1px solid var(--_border); border-radius: calc(var(--_radius) / 2); overflow: hidden; }
.views button { border: 0; background: transparent; padding: 4px 8px; font-size: 0.85em; }
.views button[aria-pressed="true"] { background: var(--_accent); color: var(--_on-accent); }
[role="tablist"] { display: flex; gap: 4px; overflow-x: auto; }
[role="tab"] {
  border: 0; background: transparent; padding: 4px 8px; font-size: 0.85em; color: var(--_fg);
  border-bottom: 2px solid transparent;
}
[role="tab"][aria-selected="true"] { border-bottom-color: var(--_accent); font-weight: 600; }
.scroller { overflow-y: auto; flex: 1; min-height: 0; }
ol { list-style: none; margin: 0; padding: 0; }
li { padding: 10px 12px; border-bottom: 1px solid var(--_border); }
li.unread { background: var(--_unread-bg); }
.dot { display: inline-block; width: 8px; height: 8px; margin-inline-end: 6px; border-radius: 50%; background: var(--_accent); vertical-align: middle; }
.title { font-weight: 600; overflow-wrap: anywhere; color: inherit; }
a.title { text-decoration: none; }
a.title:hover { text-decoration: underline; }
.body { margin: 2px 0 0; overflow-wrap: anywhere; }
.meta { margin-top: 4px; font-size: 0.8em; color: var(--_muted); display: flex; flex-wrap: wrap; gap: 2px 8px; }
.priority {
  display: inline-block; margin-inline-end: 6px; padding: 0 6px; border-radius: 9px;
  font-size: 0.75em; font-weight: 700; line-height: 1.6; vertical-align: middle;
}
.priority.urgent { background: var(--_urgent-bg); color: var(--_urgent-fg); }
.priority.high { background: var(--_high-bg); color: var(--_high-fg); }
.tag { border: 1px solid var(--_border); border-radius: 9px; padding: 0 6px; }
.actions, .menu { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.actions button.primary { background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent); font-weight: 600; }
.menu button { border-color: transparent; background: transparent; color: var(--_accent); padding: 2px 6px; }
.presets { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
.note, .state { margin: 0; padding: 20px 12px; text-align: center; color: var(--_muted); }
.state strong { display: block; color: var(--_fg); margin-bottom: 4px; }
.state button { margin-top: 10px; }
.panel { padding: 10px 12px; display: grid; gap: 12px; }
fieldset { border: 1px solid var(--_border); border-radius: calc(var(--_radius) / 2); margin: 0; padding: 6px 10px 8px; }
legend { font-weight: 600; padding: 0 4px; }
.channels { display: flex; flex-wrap: wrap; gap: 4px 14px; }
.channels label, .quiet label { display: inline-flex; gap: 4px; align-items: center; min-height: 28px; }
input[type="checkbox"] { width: 20px; height: 20px; margin: 2px; accent-color: var(--_accent); }
.hint { color: var(--_muted); font-size: 0.8em; }
.quiet { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.quiet input[type="time"] { border: 1px solid var(--_border); border-radius: 4px; background: var(--_bg); padding: 2px 4px; }
`;

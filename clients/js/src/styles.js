// The element's shadow stylesheet. Every colour, the font, the radius and the sizes come from
// CSS custom properties (documented in the README), which inherit through the shadow boundary:
// a page themes the inbox by setting them on `belfry-inbox` or any ancestor.
export const STYLES = `
:host {
  --_accent: var(--belfry-accent, #2563eb);
  --_bg: var(--belfry-bg, #ffffff);
  --_fg: var(--belfry-fg, #111827);
  --_muted: var(--belfry-muted, #6b7280);
  --_border: var(--belfry-border, #e5e7eb);
  --_radius: var(--belfry-radius, 10px);
  --_unread-bg: var(--belfry-unread-bg, #eff6ff);
  display: inline-block;
  position: relative;
  font-family: var(--belfry-font, system-ui, -apple-system, "Segoe UI", sans-serif);
  font-size: var(--belfry-font-size, 14px);
  color: var(--_fg);
}
button { font: inherit; color: inherit; cursor: pointer; }
.bell {
  position: relative; display: inline-flex; align-items: center; justify-content: center;
  width: 40px; height: 40px; border: 0; border-radius: 50%; background: transparent;
  color: var(--belfry-bell-color, currentColor);
}
.bell:hover, .bell[aria-expanded="true"] { background: var(--belfry-bell-hover-bg, rgba(0, 0, 0, 0.06)); }
.bell svg { width: 22px; height: 22px; }
.badge {
  position: absolute; top: 2px; right: 0; min-width: 18px; height: 18px; padding: 0 5px;
  box-sizing: border-box; border-radius: 9px; font-size: 11px; font-weight: 600; line-height: 18px;
  text-align: center; background: var(--belfry-badge-bg, #dc2626); color: var(--belfry-badge-color, #ffffff);
}
.badge[hidden] { display: none; }
.popover {
  position: absolute; z-index: var(--belfry-z-index, 1000); top: calc(100% + 6px); right: 0;
  width: var(--belfry-width, 360px); max-width: 95vw; background: var(--_bg); color: var(--_fg);
  border: 1px solid var(--_border); border-radius: var(--_radius);
  box-shadow: var(--belfry-shadow, 0 10px 30px rgba(0, 0, 0, 0.15)); overflow: hidden;
}
.popover[hidden] { display: none; }
header { display: flex; gap: 8px; align-items: center; padding: 10px 12px; border-bottom: 1px solid var(--_border); }
header h2 { flex: 1; margin: 0; font-size: 1em; font-weight: 600; }
select, .mark-all {
  font: inherit; font-size: 0.85em; padding: 3px 6px; border: 1px solid var(--_border);
  border-radius: calc(var(--_radius) / 2); background: var(--_bg); color: var(--_fg);
}
select { max-width: 130px; }
.mark-all { color: var(--_accent); white-space: nowrap; }
.scroller { max-height: var(--belfry-max-height, 420px); overflow-y: auto; }
ol { list-style: none; margin: 0; padding: 0; }
li { display: flex; gap: 8px; padding: 10px 12px; border-bottom: 1px solid var(--_border); }
li.unread { background: var(--_unread-bg); }
li.unread .title::before {
  content: ""; display: inline-block; width: 8px; height: 8px; margin-right: 6px;
  border-radius: 50%; background: var(--_accent); vertical-align: middle;
}
.text { flex: 1; min-width: 0; }
.title { font-weight: 600; overflow-wrap: anywhere; }
a.title { color: inherit; text-decoration: none; }
a.title:hover { text-decoration: underline; }
.body { margin: 2px 0 0; color: var(--_fg); overflow-wrap: anywhere; }
.meta { margin-top: 4px; font-size: 0.8em; color: var(--_muted); }
.actions { display: flex; flex-direction: column; gap: 4px; }
.actions button {
  border: 0; background: transparent; padding: 2px 4px; font-size: 0.8em; color: var(--_accent);
  border-radius: calc(var(--_radius) / 2);
}
.actions button:hover { background: var(--belfry-bell-hover-bg, rgba(0, 0, 0, 0.06)); }
.actions .delete { color: var(--_muted); }
.note { margin: 0; padding: 16px 12px; text-align: center; color: var(--_muted); }
.note[hidden] { display: none; }
`;

// The time-zone <select>: every IANA zone this runtime knows, grouped by region. The browser's
// script selects the visitor's zone, adding it when the list spells it differently (a link name
// such as America/Montreal); the server accepts any valid IANA name.
import { type Html, html } from './html.ts';

const ZONES: readonly string[] = [...new Set([...Intl.supportedValuesOf('timeZone'), 'UTC'])].sort();

const GROUPS: ReadonlyMap<string, readonly string[]> = (() => {
  const groups = new Map<string, string[]>();
  for (const zone of ZONES) {
    const region = zone.includes('/') ? zone.slice(0, zone.indexOf('/')) : 'UTC';
    const list = groups.get(region) ?? [];
    list.push(zone);
    groups.set(region, list);
  }
  return groups;
})();

const label = (zone: string) => zone.replaceAll('_', ' ').replaceAll('/', ' / ');

/** The <option>s (in <optgroup>s), `selected` on the chosen zone, which is added if unlisted. */
export function timeZoneOptions(selected: string): Html {
  const extra =
    selected !== '' &&
    !ZONES.includes(selected) &&
    html`<option value="${selected}" selected>${label(selected)}</option>`;
  const groups = [...GROUPS].map(
    ([region, zones]) =>
      html`<optgroup label="${region}">${zones.map(
        (zone) =>
          html`<option value="${zone}"${zone === selected ? html` selected` : ''}>${label(zone)}</option>`,
      )}</optgroup>`,
  );
  return html`${extra}${groups}`;
}

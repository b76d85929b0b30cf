// A minimal RFC 5545 reader for assertions: unfold continuation lines, split NAME:value, unescape TEXT.

/** Properties by name (a repeated name gets "#2", "#3"… suffixes). */
export function readIcs(text: string): Map<string, string> {
  const unfolded = text.replace(/\r\n[ \t]/g, '');
  const out = new Map<string, string>();
  for (const line of unfolded.split('\r\n').filter(Boolean)) {
    const at = line.indexOf(':');
    const name = line.slice(0, at);
    let key = name;
    for (let n = 2; out.has(key); n++) key = `${name}#${n}`;
    out.set(key, line.slice(at + 1));
  }
  return out;
}

export function unescapeIcsText(s: string): string {
  return s.replace(/\\([\\;,nN])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

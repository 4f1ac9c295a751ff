/** Split a line into plain and matching parts for the search highlight (text only, never HTML). */
export interface Part {
  text: string;
  hit: boolean;
}

export function compileQuery(query: string, regex: boolean, caseSensitive: boolean): RegExp | null {
  if (query === '') return null;
  try {
    return new RegExp(regex ? query : query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), caseSensitive ? 'g' : 'gi');
  } catch {
    return null;
  }
}

export function splitMatches(text: string, re: RegExp | null): Part[] {
  if (!re) return [{ text, hit: false }];
  const parts: Part[] = [];
  let pos = 0;
  re.lastIndex = 0;
  let guard = 0;
  for (let m = re.exec(text); m && guard < 200; m = re.exec(text), guard++) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    if (m.index > pos) parts.push({ text: text.slice(pos, m.index), hit: false });
    parts.push({ text: m[0], hit: true });
    pos = m.index + m[0].length;
  }
  if (pos < text.length) parts.push({ text: text.slice(pos), hit: false });
  return parts.length ? parts : [{ text, hit: false }];
}

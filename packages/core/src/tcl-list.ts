/**
 * Just enough of Tcl's list syntax for option values such as `-translation {lf crlf}` or
 * `-eofchar {{} x}`: words separated by white space, `{...}` braces (nested), `"..."` quotes and
 * backslash escapes. Returns `undefined` for a malformed list (unbalanced braces or quotes).
 */
export function splitTclList(text: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  const n = text.length;
  const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
  while (i < n) {
    while (i < n && isSpace(text[i])) i++;
    if (i >= n) break;
    const c = text[i];
    if (c === '{') {
      let depth = 1;
      let j = i + 1;
      while (j < n && depth > 0) {
        const d = text[j];
        if (d === '\\') j++;
        else if (d === '{') depth++;
        else if (d === '}') depth--;
        j++;
      }
      if (depth !== 0) return undefined;
      // A close brace must be followed by white space or the end.
      if (j < n && !isSpace(text[j])) return undefined;
      words.push(text.slice(i + 1, j - 1));
      i = j;
    } else if (c === '"') {
      let j = i + 1;
      let word = '';
      while (j < n && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < n) {
          word += unescape(text[j + 1] ?? '');
          j += 2;
        } else {
          word += text[j];
          j++;
        }
      }
      if (j >= n) return undefined;
      j++;
      if (j < n && !isSpace(text[j])) return undefined;
      words.push(word);
      i = j;
    } else {
      let word = '';
      while (i < n && !isSpace(text[i])) {
        if (text[i] === '\\' && i + 1 < n) {
          word += unescape(text[i + 1] ?? '');
          i += 2;
        } else {
          word += text[i];
          i++;
        }
      }
      words.push(word);
    }
  }
  return words;
}

function unescape(c: string): string {
  switch (c) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'r':
      return '\r';
    default:
      return c;
  }
}

/** Formats one word as a Tcl list element (braced when empty or when it holds white space). */
export function tclListElement(word: string): string {
  if (word === '') return '{}';
  if (/[\s{}"\\;$[\]]/.test(word)) return `{${word}}`;
  return word;
}

// Why a text is not base64, in words a vendor can act on. "is not valid base64" about a 20 MB
// attachment left a QLVB vendor to guess between a data: URI, base64url, lost padding and a
// stray character; each is a different bug on their side.

/** `padding`: whether the `=` padding is required (edXML) or may be left out (the JSON form). */
export function base64Fault(text: string, opts: { padding: 'required' | 'optional' }): string | null {
  if (/^data:/i.test(text)) return 'it is a data: URI; send only the base64 text after "base64,"';
  const stray = /[^A-Za-z0-9+/=]/.exec(text);
  if (stray) {
    const char = stray[0];
    const shown = /[\x21-\x7e]/.test(char) ? `"${char}"` : `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    const hint = char === '-' || char === '_' ? ' (base64url? use + and / instead of - and _)' : /\s/.test(char) ? ' (white space)' : '';
    return `character ${shown} at position ${stray.index + 1} is not base64${hint}`;
  }
  const padding = text.indexOf('=');
  if (padding >= 0 && !/^={1,2}$/.test(text.slice(padding))) return `"=" at position ${padding + 1} is padding, which may only end the text (one or two of them)`;
  if (opts.padding === 'required' && text.length % 4 !== 0) return `its length, ${text.length} characters, is not a multiple of 4 (the "=" padding left out, or the text cut short?)`;
  if (text.replace(/=+$/, '').length % 4 === 1) return `its length, ${text.length} characters, cannot be base64 (a character too many, or the text cut short?)`;
  return null;
}

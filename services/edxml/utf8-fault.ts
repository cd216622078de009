// Why the bytes of an XML document are not UTF-8, and where. "the XML document is not valid
// UTF-8" left a QLVB vendor to search a 30 MB package; most often the package, or one field of
// it pasted from an older system, was written in Windows-1258, TCVN3 (ABC) or Latin-1, or the
// whole package in UTF-16 (what .NET writes through a StringWriter).

/** Where the first byte that is not UTF-8 sits: its offset, line and column (in bytes). */
export function firstNonUtf8Byte(bytes: Uint8Array): { offset: number; line: number; column: number } | null {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    if (b < 0x80) {
      if (b === 0x0a) {
        line++;
        lineStart = i + 1;
      }
      i++;
      continue;
    }
    // The lengths and second-byte ranges of well-formed UTF-8 (Unicode, table 3-7): no overlong
    // forms, no surrogates, nothing past U+10FFFF.
    const [length, low, high] = b >= 0xc2 && b <= 0xdf ? [2, 0x80, 0xbf]
      : b === 0xe0 ? [3, 0xa0, 0xbf] : b === 0xed ? [3, 0x80, 0x9f] : b >= 0xe1 && b <= 0xef ? [3, 0x80, 0xbf]
        : b === 0xf0 ? [4, 0x90, 0xbf] : b === 0xf4 ? [4, 0x80, 0x8f] : b >= 0xf1 && b <= 0xf3 ? [4, 0x80, 0xbf] : [0, 0, 0];
    const ok = length > 0 && i + length <= bytes.length && bytes[i + 1] >= low && bytes[i + 1] <= high
      && Array.from({ length: length - 2 }, (_, k) => bytes[i + 2 + k]).every((c) => c >= 0x80 && c <= 0xbf);
    if (!ok) return { offset: i, line, column: i - lineStart + 1 };
    i += length;
  }
  return null;
}

/** What to tell the sender of bytes that are not UTF-8 (isUtf8 said they are not). */
export function notUtf8Detail(bytes: Uint8Array): string {
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes.length > 1 && (bytes[0] === 0 || bytes[1] === 0));
  if (utf16) return 'the XML document is UTF-16, not UTF-8: edXML packages are UTF-8; write it in UTF-8 and declare encoding="UTF-8"';
  const at = firstNonUtf8Byte(bytes);
  const where = at ? `: byte 0x${bytes[at.offset].toString(16).toUpperCase().padStart(2, '0')} at line ${at.line}, column ${at.column} (byte ${at.offset + 1}) is not UTF-8` : '';
  return `the XML document is not valid UTF-8${where}. Was the package, or text copied into it, written in Windows-1258, TCVN3 or Latin-1? edXML packages are UTF-8`;
}

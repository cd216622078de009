// The likeliest reason an element a package plainly holds is reported "required": it is written
// in another namespace (a prefix bound to an older URI, a default namespace left off an inner
// element). The codec reads such elements as extensions (a vendor's own elements may share a
// name) and notes them as lookalikes; a refusal about that element says what it found.
import { inNamespace, type Lookalike } from './edxml-codec.js';
import { EDXML_NS } from './edxml-fields.js';

const withoutIndex = (at: string) => at.replace(/\[\d+\]$/, '');

/** The lookalike at the element a refusal names (`edXMLHeader/MessageHeader/From`), if any. */
export function lookalikeAt(field: string, lookalikes: readonly Lookalike[]): Lookalike | undefined {
  return lookalikes.find((l) => field.endsWith(`/${l.at}`) || field.endsWith(`/${withoutIndex(l.at)}`));
}

/** ': the From element there is in namespace …' when a lookalike explains a refusal at `field`, else ''. */
export function lookalikeHint(field: string, lookalikes: readonly Lookalike[]): string {
  const found = lookalikeAt(field, lookalikes);
  if (!found) return '';
  const name = withoutIndex(found.at).split('/').pop();
  return `: the ${name} element there is ${inNamespace(found.namespace)}, not in the edXML namespace ${EDXML_NS}`;
}

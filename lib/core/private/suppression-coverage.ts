/** What a suppression covers, as the refusals name it: its `appliesTo` entries, or every finding (`finding`) of its rule. */
export function suppressionCoverage(suppression: { readonly appliesTo?: readonly string[] }, finding = 'finding'): string {
  return suppression.appliesTo ? `appliesTo ${suppression.appliesTo.map((t) => `'${t}'`).join(', ')}` : `every ${finding}`;
}

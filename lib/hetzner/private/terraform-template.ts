import { IConstruct } from 'constructs';
import { DefaultTokenResolver, StringConcat, Tokenization } from 'cdktf';

/**
 * Terraform reads `${…}` and `%{…}` in any string as template sequences, so literal shell and
 * config text must reach it as `$${…}` and `%%{…}`. cdktf's own tokens (`${TfToken[…]}`) stay
 * references.
 */
export function escapeTemplateSequences(text: string): string {
  return text.replace(/\$\{(?!TfToken\[)/g, '$$${').replace(/%\{/g, '%%{');
}

const RESOLVER = new DefaultTokenResolver(new StringConcat());

/** The Terraform template text of a string with cdktf tokens, as it will stand in the synthesized JSON. */
export function resolveTemplate(scope: IConstruct, text: string): string {
  return Tokenization.resolve(text, { scope, preparing: false, resolver: RESOLVER }) as string;
}

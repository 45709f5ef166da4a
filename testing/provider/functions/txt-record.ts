/**
 * `zoneutil.FormatTXTRecord` of hcloud-go v2.47.0 (hcloud/exp/zoneutil/txt.go:24-34), which
 * `provider::hcloud::txt_record` returns (terraform-provider-hcloud v1.68.0
 * internal/zonerrset/function_txt_record.go:46).
 *
 * The rule, exactly as Go runs it:
 * 1. every `"` becomes `\"` (backslashes are left alone);
 * 2. the escaped text is cut into chunks of 255 **bytes** of UTF-8 (Go's `slices.Chunk([]byte(value), 255)`),
 *    so a chunk boundary may fall inside a multi-byte character or between `\` and `"`;
 * 3. each chunk is wrapped in double quotes and the chunks are joined with one space.
 * The empty string has no chunks and formats to the empty string (not `""`).
 *
 * The result is bytes, not a JavaScript string: a chunk boundary inside a character leaves invalid
 * UTF-8 that the provider sends to Terraform as it is, and decoding it here would replace it with U+FFFD.
 */

/** The size of one character-string of a TXT record (RFC 1035 section 3.3.14). */
export const TXT_CHUNK_BYTES = 255;

/** The UTF-8 bytes of `FormatTXTRecord(value)`. */
export function formatTxtRecord(value: string): Buffer {
  const escaped = Buffer.from(value.replace(/"/g, '\\"'), 'utf8');
  const parts: Buffer[] = [];
  for (let start = 0; start < escaped.length; start += TXT_CHUNK_BYTES) {
    if (parts.length > 0) parts.push(Buffer.from(' '));
    parts.push(Buffer.from('"'), escaped.subarray(start, start + TXT_CHUNK_BYTES), Buffer.from('"'));
  }
  return Buffer.concat(parts);
}

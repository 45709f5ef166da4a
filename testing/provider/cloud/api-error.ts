import * as crypto from 'crypto';

/**
 * A refusal of the simulated Hetzner API, reported the way hcloud v1.68 reports it.
 *
 * hcloud-go formats API errors as `<message> (<code>, <correlation id>)`. Resources written with
 * the plugin SDK (server, volume, network, firewall, ...) put that string in the summary, and for
 * `invalid_input` append the fields (`...: [location => [location not found]]`). Resources written
 * with the plugin framework (primary IP, SSH key, Storage Box, ...) say "API request failed" or
 * "Invalid field in API request" and put the API message and the error code in the detail.
 */
export class ApiError extends Error {
  constructor(
    public readonly code: string,
    public readonly apiMessage: string,
    /** For invalid_input: the field and its messages. */
    public readonly field?: { readonly name: string; readonly messages: readonly string[] },
    /** The resource attribute the error is about, for Terraform to point at. */
    public readonly attribute?: string,
  ) {
    super(`${apiMessage} (${code})`);
    this.name = 'ApiError';
  }
}

/** A provider-side error that is not an API call (such as `server type cx99 not found`). */
export class ProviderError extends Error {
  constructor(public readonly summary: string, public readonly detail = '', public readonly attribute?: string, public readonly warning = false) {
    super(summary);
    this.name = 'ProviderError';
  }
}

/** Resource types of hcloud v1.68 implemented with terraform-plugin-framework (the rest use SDKv2). */
export const FRAMEWORK_RESOURCES: ReadonlySet<string> = new Set([
  'hcloud_load_balancer_network', 'hcloud_primary_ip', 'hcloud_rdns', 'hcloud_server_network', 'hcloud_ssh_key',
  'hcloud_storage_box', 'hcloud_storage_box_snapshot', 'hcloud_storage_box_subaccount', 'hcloud_zone', 'hcloud_zone_record', 'hcloud_zone_rrset',
]);

/** A diagnostic's words, and the attribute it points at. */
export interface DiagnosticText {
  readonly summary: string;
  readonly detail: string;
  readonly attribute?: string;
}

/** The diagnostic the real provider shows for an API error on this resource type. */
export function apiErrorDiagnostic(typeName: string, error: ApiError): DiagnosticText {
  const correlation = crypto.randomBytes(8).toString('hex');
  const withCode = `${error.apiMessage} (${error.code}, ${correlation})`;
  if (!FRAMEWORK_RESOURCES.has(typeName)) {
    const fields = error.field ? `: [${error.field.name} => [${error.field.messages.join(' ')}]]` : '';
    return { summary: `${withCode}${fields}`, detail: '', attribute: error.attribute };
  }
  if (error.field) {
    return {
      summary: 'Invalid field in API request',
      detail: 'An invalid field was encountered during an API request. The field might not map 1:1 to your terraform resource.\n\n'
        + `${withCode}\n\nField: ${error.field.name}\nMessages:\n${error.field.messages.map((m) => ` - ${m}`).join('\n')}\nError code: ${error.code}\n`,
      attribute: error.attribute,
    };
  }
  return {
    summary: 'API request failed',
    detail: `An unexpected error was encountered during an API request.\n\n${withCode}\n\nError code: ${error.code}\n`,
    attribute: error.attribute,
  };
}

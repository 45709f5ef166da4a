import { quote } from '../../core/validation-message';
import { HETZNER_API_ENDPOINTS } from '../../environments/private/hetzner-endpoints';
import { inEuObjectStorage } from './eu-state-backend';
import { BoundaryRule, Finding, SynthesizedResource } from './rule';

/** Providers whose resources compute on the machine that deploys and send nothing anywhere. */
const LOCAL_PROVIDERS = new Set(['hcloud', 'terraform', 'random', 'tls', 'time', 'null', 'local', 'archive', 'cloudinit']);
/** Data sources that make a request of their own from the machine that deploys, at every plan. */
const SENDING_DATA_SOURCES = new Set(['http', 'external']);

const FIX_SUPPRESS = 'or, when it is safe, suppress Boundary-UncheckedSender on it with the reason, so that boundary.md lists it';

/**
 * What sends data or places it where no other boundary rule looks: the rules read hcloud resources
 * and the machines' egress, so a command Terraform runs on the machine that deploys (`local-exec`,
 * an `http` or `external` data source), a provisioner connecting to a host outside the stack,
 * another cloud's resources and modules (whose resources are not in the configuration) would all
 * pass synth unread, and boundary.md would not show them.
 */
export const uncheckedSender: BoundaryRule = {
  id: 'Boundary-UncheckedSender',
  level: 'error',
  cause: 'Something the other rules cannot read sends or places data: a local-exec provisioner, an http or external data source (a check block\'s own included), a terraform_remote_state outside EU object storage, an ephemeral resource of a provider other than hcloud and the local ones, a provisioner connecting to a host outside the stack, a resource of a provider other than hcloud (and local-only ones such as random or tls), a module, or an hcloud provider that is not Hetzner\'s (an endpoint elsewhere, another source, a resource handed to a provider under another name).',
  explanation: 'What leaves the EU control plane must be code the rules read. These run on the machine that deploys (often a CI runner outside the EU) or in a provider the rules do not know, so nothing limits what they send or where they place it.',
  enforcedAt: 'synth (Aspect over the whole app); a suppression lists each exception in boundary.md',
  evaluate: ({ terraform, resources, stack }) => {
    const findings: Finding[] = [];
    const stackHosts = new Set(resources.filter((r) => r.type === 'hcloud_server' || r.type === 'hcloud_primary_ip').map((r) => `${r.type}.${r.name}`));
    for (const r of resources) {
      const where = `${r.path}`;
      if (!LOCAL_PROVIDERS.has(providerOf(r.type))) {
        findings.push({ path: r.path, message: `${where}.type: '${r.type}' is not allowed: it is a resource of the ${providerOf(r.type)} provider, and no boundary rule reads where it places data or what it sends. Fix: keep the data on Hetzner resources in the EU, ${FIX_SUPPRESS}` });
      }
      findings.push(...provisionerFindings(r, stackHosts));
    }
    // A check block's own data sources run at every plan like any other (Terraform's example of a check is a `data "http"`).
    const checkScoped = Object.entries((terraform.check ?? {}) as Record<string, any>).flatMap(([name, check]) => blocksOf(check?.data, `check.${name}.data.`));
    const dataSources = [...blocksOf(terraform.data, 'data.'), ...checkScoped];
    const ephemerals = blocksOf(terraform.ephemeral, 'ephemeral.');
    findings.push(...[...resources, ...dataSources, ...ephemerals].flatMap(providerArgumentFindings));
    for (const d of dataSources) {
      if (d.type === 'terraform_remote_state' && !readsEuState(d.body)) {
        findings.push({ path: d.path, message: `${d.path}.backend: ${quote(d.body.backend)} is not allowed: a terraform_remote_state makes a request of its own from the machine that deploys at every plan, and only local state or EU Hetzner Object Storage is known to stay in the EU (another backend, such as http, reaches any host with whatever its address carries). Fix: read it from an ObjectStorageBackend bucket (backend s3 with a your-objectstorage.com endpoint in fsn1, nbg1 or hel1), ${FIX_SUPPRESS}` });
      } else if (SENDING_DATA_SOURCES.has(d.type)) {
        findings.push({ path: d.path, message: `${d.path}.type: 'data ${d.type}' is not allowed: it makes a request of its own from the machine that deploys at every plan, to any host, with whatever it is given. Fix: fetch it on a machine whose egress the allowlist limits, ${FIX_SUPPRESS}` });
      } else if (!LOCAL_PROVIDERS.has(providerOf(d.type))) {
        findings.push({ path: d.path, message: `${d.path}.type: 'data ${d.type}' is not allowed: it reads through the ${providerOf(d.type)} provider, which no boundary rule knows. Fix: read it from Hetzner or another stack's outputs, ${FIX_SUPPRESS}` });
      }
    }
    // Terraform opens an ephemeral resource at every plan and apply, through its provider, with the arguments it is given.
    for (const e of ephemerals.filter((e) => !LOCAL_PROVIDERS.has(providerOf(e.type)))) {
      findings.push({ path: e.path, message: `${e.path}.type: 'ephemeral ${e.type}' is not allowed: Terraform opens it through the ${providerOf(e.type)} provider from the machine that deploys, at every plan and apply, and no boundary rule reads what it sends or where. Fix: keep to Hetzner and the local providers (random, tls, …), ${FIX_SUPPRESS}` });
    }
    for (const m of blocksOf({ module: terraform.module }, '')) {
      findings.push({ path: m.path, message: `${m.path}.source: '${String(m.body.source)}' is not allowed: a module's resources are not in this configuration, so no boundary rule reads where they place data or what they send. Fix: build it from this library's constructs or hcloud resources, ${FIX_SUPPRESS}` });
    }
    findings.push(...providerFindings(terraform, stack.node.path));
    return findings;
  },
};

/**
 * A resource or data source handed to a provider under another local name (`provider = hetzner` on an hcloud_server,
 * beside `required_providers.hetzner`): the provider checks below read the configurations and sources of the
 * provider named by each type (`provider.hcloud`, its aliases included), so one under another name, with any
 * endpoint, received the resources unchecked.
 */
function providerArgumentFindings(r: SynthesizedResource): Finding[] {
  const provider = r.body.provider;
  if (provider === undefined || provider === null) return [];
  const localName = typeof provider === 'string' ? provider.replace(/^\$\{(.*)\}$/, '$1').split('.')[0] : undefined;
  if (localName === providerOf(r.type)) return [];
  return [{
    path: r.path,
    message: `${r.path}.provider: ${quote(provider)} is not allowed: it hands ${r.type} to the provider configured as '${localName ?? '?'}', while the boundary checks the endpoint and source of the ${providerOf(r.type)} provider (and its aliases) only. `
      + `Fix: use the ${providerOf(r.type)} provider or an alias of it (provider = ${providerOf(r.type)}.<alias>), ${FIX_SUPPRESS}`,
  }];
}

/** Registries a provider source may name before its namespace (none: the public registry). */
const PUBLIC_REGISTRY = /^(?:(?:registry\.terraform\.io|registry\.opentofu\.org)\/)?/i;

/**
 * The providers themselves: the rules read hcloud resources trusting that the hcloud provider is
 * Hetzner's and talks to Hetzner. An `endpoint` elsewhere (a proxy, a mock left in) receives the API
 * token and every attribute of every resource, user data and secrets included; a `source` naming
 * another binary for a known provider name runs whatever that binary does with them.
 */
function providerFindings(terraform: Record<string, any>, at: string): Finding[] {
  const findings: Finding[] = [];
  for (const [i, provider] of [terraform.provider?.hcloud ?? []].flat().entries()) {
    for (const [attribute, expected] of Object.entries(HETZNER_API_ENDPOINTS)) {
      const value = provider?.[attribute];
      if (value === undefined || value === null || (typeof value === 'string' && value.replace(/\/+$/, '') === expected)) continue;
      findings.push({
        path: at,
        message: `${at}.provider.hcloud${i > 0 ? `[${i}]` : ''}.${attribute}: ${quote(value)} is not allowed: the hcloud provider sends the API token and every attribute of every resource (user data, bundles, secrets) there, and it is not Hetzner's API (${expected})${typeof value === 'string' && value.includes('${') ? ', or synth cannot know it is' : ''}. `
          + `Fix: set ${attribute} to ${expected}, as this library's stacks do, ${FIX_SUPPRESS}`,
      });
    }
  }
  for (const [name, requirement] of Object.entries((terraform.terraform?.required_providers ?? {}) as Record<string, any>)) {
    const source = typeof requirement === 'object' && requirement !== null ? requirement.source : undefined;
    if (!LOCAL_PROVIDERS.has(name) || typeof source !== 'string') continue;
    const expected = name === 'hcloud' ? 'hetznercloud/hcloud' : `hashicorp/${name}`;
    if (source.replace(PUBLIC_REGISTRY, '').toLowerCase() === expected) continue;
    findings.push({
      path: at,
      message: `${at}.terraform.required_providers.${name}.source: ${quote(source)} is not allowed: the boundary rules read ${name}_ resources as those of ${expected}, and this source installs another provider under that name, which may place or send their data anywhere. `
        + `Fix: use ${expected}, ${FIX_SUPPRESS}`,
    });
  }
  return findings;
}

/** Whether a terraform_remote_state reads local state, or state in EU Hetzner Object Storage (as Boundary-EuStateBackend requires of the state itself). */
function readsEuState(body: Record<string, any>): boolean {
  if (body.backend === 'local') return true;
  return body.backend === 's3' && inEuObjectStorage(body.config);
}

/** Data sources (by type) or modules, with their construct path, or their address when written by an override. */
function blocksOf(byType: Record<string, unknown> | undefined, prefix: string): SynthesizedResource[] {
  return Object.entries(byType ?? {}).flatMap(([type, byName]) => Object.entries((byName ?? {}) as Record<string, any>).map(([name, body]) => ({
    type, name, body: body ?? {}, path: body?.['//']?.metadata?.path ?? `${prefix}${type}.${name}`,
  })));
}

/** The provider a resource or data source type belongs to: the text before its first underscore. */
function providerOf(type: string): string {
  return type.split('_')[0];
}

/** `local-exec` anywhere, and `remote-exec`/`file` provisioners whose host (or bastion) is not a server of the stack. */
function provisionerFindings(r: SynthesizedResource, stackHosts: ReadonlySet<string>): Finding[] {
  const provisioners = [r.body.provisioner ?? []].flat().filter((p: unknown) => p !== null && typeof p === 'object');
  return provisioners.flatMap((p: Record<string, any>): Finding[] => Object.entries(p).flatMap(([kind, body]): Finding[] => {
    if (kind === 'local-exec') {
      return [{ path: r.path, message: `${r.path}.provisioner: 'local-exec' is not allowed: it runs a command on the machine that deploys, outside every egress limit the boundary renders, so what it sends and where is unchecked. Fix: run it on the machine through a bundle part (machine.addBundlePart), ${FIX_SUPPRESS}` }];
    }
    const connection = { ...(r.body.connection ?? {}), ...(body?.connection ?? {}) };
    return (['host', 'bastion_host'] as const).filter((key) => connection[key] !== undefined && !namesStackHost(connection[key], stackHosts)).map((key) => ({
      path: r.path,
      message: `${r.path}.connection.${key}: '${String(connection[key])}' is not allowed: the ${kind} provisioner connects to a host that is not a server of this stack, so what it uploads or runs leaves every egress limit the boundary checks. Fix: connect to a Machine of the stack (its address reference), ${FIX_SUPPRESS}`,
    }));
  }));
}

/** Whether a connection host is exactly a reference to an address of a server of the stack. */
function namesStackHost(value: unknown, stackHosts: ReadonlySet<string>): boolean {
  if (typeof value !== 'string') return false;
  const m = /^\$\{(hcloud_(?:server|primary_ip)\.[A-Za-z0-9_-]+)\.(ipv4_address|ipv6_address|ip_address)\}$/.exec(value.trim());
  return m !== null && stackHosts.has(m[1]);
}

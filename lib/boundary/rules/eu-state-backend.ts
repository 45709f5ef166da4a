import { Location } from '../../hetzner/location';
import { BoundaryRule, Finding } from './rule';

/** Hetzner Object Storage in an EU location: where state (and remote state read from it) may live. */
const EU_OBJECT_STORAGE = new RegExp(`^https://(${Location.eu().map((l) => l.name).join('|')})\\.your-objectstorage\\.com/?$`);

/** The endpoint an s3 backend's `config` names (`endpoints.s3`, or the older `endpoint`); none means AWS S3. */
function s3EndpointOf(config: Record<string, any> | undefined): unknown {
  return config?.endpoints?.s3 ?? config?.endpoint;
}

/** Whether an s3 backend's `config` keeps state in EU Hetzner Object Storage. */
export function inEuObjectStorage(config: Record<string, any> | undefined): boolean {
  const endpoint = s3EndpointOf(config);
  return typeof endpoint === 'string' && EU_OBJECT_STORAGE.test(endpoint);
}

/**
 * Where a stack's Terraform JSON keeps its state, as Terraform reads it: each `backend` block, and a `cloud` block
 * (cdktf's CloudBackend: HCP Terraform or Terraform Enterprise), which is a backend too though written apart. With
 * neither, the local backend. The rule and the boundary document both read this.
 */
export function stateBackendsOf(terraform: Record<string, any>): Array<[type: string, config: Record<string, any>]> {
  const backends = Object.entries(terraform.terraform?.backend ?? {}) as Array<[string, Record<string, any>]>;
  const cloud = terraform.terraform?.cloud;
  if (cloud !== undefined && cloud !== null) backends.push(['cloud', cloud]);
  return backends.length > 0 ? backends : [['local', {}]];
}

/** Where a `cloud` block keeps state: its hostname (HCP Terraform's by default) and organization. */
export function cloudHostOf(config: Record<string, any>): string {
  return `${typeof config.hostname === 'string' ? config.hostname : 'app.terraform.io'}${config.organization !== undefined ? ` (organization ${String(config.organization)})` : ''}`;
}

export const euStateBackend: BoundaryRule = {
  id: 'Boundary-EuStateBackend',
  level: 'error',
  cause: 'Terraform state is kept outside the EU (another backend, or HCP Terraform or Terraform Enterprise through a cloud block), or on a local disk.',
  explanation: 'State holds every attribute of every resource, secrets included: it is data too, and stays in the EU with locking. A local state file is allowed with a warning (it is easily lost and unshared).',
  enforcedAt: 'synth (Aspect over the whole app)',
  evaluate: ({ terraform, stack }) => {
    const at = stack.node.path;
    return stateBackendsOf(terraform).flatMap(([type, config]): Finding[] => {
      if (type === 'cloud') {
        return [{ path: at, message: `${at}.terraform.cloud: '${cloudHostOf(config)}' is not allowed: HCP Terraform (or Terraform Enterprise) keeps the state, every secret in it included, and runs the plans with their variables, on a host the library cannot verify is in the EU (HCP Terraform's app.terraform.io is run by a US company). Fix: use ObjectStorageBackend (Hetzner Object Storage, EU, with locking), or suppress Boundary-EuStateBackend with the reason the host is EU-hosted` }];
      }
      if (type === 'local') {
        return [{ path: at, level: 'warning', message: `${at}.backend: 'local' keeps state on one disk: it is easily lost and cannot be shared or locked across a team. Fix: use ObjectStorageBackend (Hetzner Object Storage, EU, with locking)` }];
      }
      if (type !== 's3') {
        return [{ path: at, message: `${at}.backend: '${type}' is not allowed: the library cannot verify that this backend keeps state in the EU. Fix: use ObjectStorageBackend, or suppress Boundary-EuStateBackend with the reason the backend is EU-hosted` }];
      }
      if (!inEuObjectStorage(config)) {
        return [{ path: at, message: `${at}.backend.s3.endpoints.s3: '${String(s3EndpointOf(config) ?? 'AWS S3')}' is not allowed: state must stay in EU object storage. Fix: use ObjectStorageBackend with Location.FSN1, NBG1 or HEL1` }];
      }
      if (config.use_lockfile !== true && !config.dynamodb_table) {
        return [{ path: at, level: 'warning', message: `${at}.backend.s3.use_lockfile: state without locking can be corrupted by two concurrent applies. Fix: set use_lockfile (ObjectStorageBackend does)` }];
      }
      return [];
    });
  },
};

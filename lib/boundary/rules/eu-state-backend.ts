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

export const euStateBackend: BoundaryRule = {
  id: 'Boundary-EuStateBackend',
  level: 'error',
  cause: 'Terraform state is kept outside the EU, or on a local disk.',
  explanation: 'State holds every attribute of every resource, secrets included: it is data too, and stays in the EU with locking. A local state file is allowed with a warning (it is easily lost and unshared).',
  enforcedAt: 'synth (Aspect over the whole app)',
  evaluate: ({ terraform, stack }) => {
    const backends = Object.entries(terraform.terraform?.backend ?? {}) as Array<[string, any]>;
    const at = stack.node.path;
    if (backends.length === 0) backends.push(['local', {}]);
    return backends.flatMap(([type, config]): Finding[] => {
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

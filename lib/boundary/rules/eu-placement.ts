import { Location } from '../../hetzner/location';
import { BoundaryRule, dataClassOf } from './rule';

// Resources that sit in a location and can hold data.
const LOCATION_ATTRIBUTES: Record<string, string> = {
  hcloud_server: 'location', hcloud_volume: 'location', hcloud_primary_ip: 'location', hcloud_storage_box: 'location',
  hcloud_load_balancer: 'location', hcloud_floating_ip: 'home_location', hcloud_snapshot: '',
};

export const euPlacement: BoundaryRule = {
  id: 'Boundary-EuPlacement',
  level: 'error',
  cause: 'A resource that holds non-public data is placed outside the EU locations (fsn1, nbg1, hel1).',
  explanation: 'The application and data plane stay in the EU; only data explicitly labelled public may live elsewhere. Unlabelled resources count as sensitive.',
  enforcedAt: 'synth (Aspect over the whole app)',
  evaluate: ({ resources }) => resources.flatMap((r) => {
    const attribute = LOCATION_ATTRIBUTES[r.type];
    const location = attribute ? r.body[attribute] : undefined;
    if (typeof location !== 'string' || location.startsWith('${')) return [];
    if (Location.of(location).inEu || r.body.labels?.['data-class'] === 'public') return [];
    return [{
      path: r.path,
      message: `${r.path}.${attribute}: '${location}' is not allowed: ${r.type} holds ${dataClassOf(r)} data, which must stay in the EU. Fix: use fsn1, nbg1 or hel1, or label it data-class=public if it truly holds only public data`,
    }];
  }),
};

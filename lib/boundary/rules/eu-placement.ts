import { Location } from '../../hetzner/location';
import { BoundaryRule, describeHeld, heldData, holdsOnlyPublic, SynthesizedResource } from './rule';

/** Every attribute that places a resource somewhere, and how to read the place it names. */
const PLACING_ATTRIBUTES: Record<string, (value: string) => Location | 'eu-zone' | 'non-eu-zone'> = {
  location: (v) => Location.of(v),
  home_location: (v) => Location.of(v),
  // Datacenters are named after their location: fsn1-dc14, ash-dc1.
  datacenter: (v) => Location.of(v.replace(/-dc\d+$/, '')),
  network_zone: (v) => (EU_NETWORK_ZONES.has(v) ? 'eu-zone' : 'non-eu-zone'),
};
const EU_NETWORK_ZONES = new Set(Location.eu().map((l) => l.networkZone));
/** Resources that place nothing that holds or carries data: a subnet's zone only says where its servers may be, and they are checked themselves. */
const NOT_HOLDING = new Set(['hcloud_network_subnet', 'hcloud_network']);

function placements(r: SynthesizedResource): Array<{ attribute: string; value: string; inEu: boolean }> {
  return Object.entries(PLACING_ATTRIBUTES).flatMap(([attribute, read]) => {
    const value = r.body?.[attribute];
    if (typeof value !== 'string' || value.includes('${')) return [];
    const place = read(value);
    const inEu = place === 'eu-zone' || (place instanceof Location && place.isKnown && place.inEu);
    return [{ attribute, value, inEu }];
  });
}

export const euPlacement: BoundaryRule = {
  id: 'Boundary-EuPlacement',
  level: 'error',
  cause: 'A resource that holds non-public data is placed outside the EU by any placing attribute (location, home_location, datacenter, network_zone): only fsn1, nbg1, hel1 and network zone eu-central are in the EU.',
  explanation: 'The application and data plane stay in the EU; only data explicitly declared public may live elsewhere. Undeclared resources count as sensitive, and an unknown place counts as outside the EU.',
  enforcedAt: 'synth (Aspect over the whole app)',
  evaluate: ({ resources, constructAt }) => resources.filter((r) => r.type.startsWith('hcloud_') && !NOT_HOLDING.has(r.type)).flatMap((r) => {
    const outside = placements(r).filter((p) => !p.inEu);
    if (outside.length === 0) return [];
    const held = heldData(r, constructAt);
    if (holdsOnlyPublic(held)) return [];
    return outside.map((p) => ({
      path: r.path,
      message: `${r.path}.${p.attribute}: '${p.value}' is not allowed: ${r.type} holds ${describeHeld(held)} data, which must stay in the EU. `
        + 'Fix: use fsn1, nbg1 or hel1 (network zone eu-central), or declare that it holds only public data (dataClasses: [DataClass.PUBLIC]; on a raw resource the label data-class=public)',
    }));
  }),
};

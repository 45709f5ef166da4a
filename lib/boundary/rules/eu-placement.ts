import { Location } from '../../hetzner/location';
import { holdsOnlyPublic } from '../../core/private/only-public';
import { BoundaryRule, describeHeld, heldData, SynthesizedResource } from './rule';

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

/** A placing attribute as written, and whether it is in the EU; a place Terraform computes is `computed`. */
type Placement = { attribute: string; value: string; inEu: boolean; computed: boolean };

function placements(r: SynthesizedResource, byReference: ReadonlyMap<string, SynthesizedResource>): Placement[] {
  return Object.entries(PLACING_ATTRIBUTES).flatMap(([attribute, read]): Placement[] => {
    const written = r.body?.[attribute];
    if (written === undefined || written === null) return [];
    // A reference to the same attribute of another resource of the stack places it where that one is.
    const value = literalPlace(written, attribute, byReference, new Set([r]));
    if (value === undefined) {
      // An unknown place counts as outside the EU: Terraform could compute any location.
      return [{ attribute, value: typeof written === 'string' ? written : JSON.stringify(written), inEu: false, computed: true }];
    }
    const place = read(value);
    const inEu = place === 'eu-zone' || (place instanceof Location && place.isKnown && place.inEu);
    return [{ attribute, value, inEu, computed: false }];
  });
}

/**
 * The literal a placing value comes to: itself, or, for exactly `${hcloud_x.name.<attribute>}`,
 * the literal of that resource's same attribute (what the library writes when one resource is
 * placed where another is). Any other expression is `undefined`.
 */
function literalPlace(value: unknown, attribute: string, byReference: ReadonlyMap<string, SynthesizedResource>, seen: Set<SynthesizedResource>): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (!value.includes('${')) return value;
  const m = /^\$\{(hcloud_[a-z_]+\.[A-Za-z0-9_-]+)\.([a-z_]+)\}$/.exec(value.trim());
  const target = m && m[2] === attribute ? byReference.get(m[1]) : undefined;
  if (!target || seen.has(target)) return undefined;
  seen.add(target);
  return literalPlace(target.body?.[attribute], attribute, byReference, seen);
}

export const euPlacement: BoundaryRule = {
  id: 'Boundary-EuPlacement',
  level: 'error',
  cause: 'A resource that holds non-public data is placed outside the EU by any placing attribute (location, home_location, datacenter, network_zone): only fsn1, nbg1, hel1 and network zone eu-central are in the EU.',
  explanation: 'The application and data plane stay in the EU; only data explicitly declared public may live elsewhere. Undeclared resources count as sensitive, and an unknown place counts as outside the EU.',
  enforcedAt: 'synth (Aspect over the whole app)',
  evaluate: ({ resources, constructAt }) => {
    const byReference = new Map(resources.map((r) => [`${r.type}.${r.name}`, r]));
    return resources.filter((r) => r.type.startsWith('hcloud_') && !NOT_HOLDING.has(r.type)).flatMap((r) => {
      const outside = placements(r, byReference).filter((p) => !p.inEu);
      if (outside.length === 0) return [];
      const held = heldData(r, constructAt);
      if (holdsOnlyPublic(held.classes)) return [];
      return outside.map((p) => ({
        path: r.path,
        message: p.computed
          ? `${r.path}.${p.attribute}: '${p.value}' is not allowed: ${r.type} holds ${describeHeld(held)} data, which must stay in the EU, and Terraform computes this place, so synth cannot know it is in the EU (an unknown place counts as outside). `
            + 'Fix: write the place as a literal, fsn1, nbg1 or hel1 (network zone eu-central), or declare that it holds only public data (dataClasses: [DataClass.PUBLIC]; on a raw resource the label data-class=public)'
          : `${r.path}.${p.attribute}: '${p.value}' is not allowed: ${r.type} holds ${describeHeld(held)} data, which must stay in the EU. `
            + 'Fix: use fsn1, nbg1 or hel1 (network zone eu-central), or declare that it holds only public data (dataClasses: [DataClass.PUBLIC]; on a raw resource the label data-class=public)',
      }));
    });
  },
};

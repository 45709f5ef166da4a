import * as fs from 'fs';
import * as path from 'path';
import { Location, ServerType } from '../../lib';
import { priceDataProblems } from '../../lib/cost/price-data';
import { PriceList } from '../../lib/cost/price-list';

const FILE = path.resolve(__dirname, '..', '..', 'lib', 'cost', 'hetzner-prices.json');
const shipped = () => JSON.parse(fs.readFileSync(FILE, 'utf8'));

describe('the price file', () => {
  test('has the shape the estimator relies on: dated, sourced, non-negative', () => {
    expect(priceDataProblems(shipped())).toEqual([]);
    const data = shipped();
    expect(data.takenOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(data.priceLists.map((l: { id: string; effectiveFrom: string }) => [l.id, l.effectiveFrom])).toEqual([
      ['2025-10-16', '2025-10-16'], ['2026-04-01', '2026-04-01'], ['2026-06-15', '2026-06-15'],
    ]);
  });

  test('fails when the date the prices were taken is missing', () => {
    const data = shipped();
    delete data.takenOn;
    expect(priceDataProblems(data)).toEqual([expect.stringMatching(/^takenOn: undefined is not a date: .* Fix: set "takenOn"/)]);
  });

  test('fails when a price list has no date', () => {
    const data = shipped();
    delete data.priceLists[1].effectiveFrom;
    expect(priceDataProblems(data)).toContainEqual(expect.stringMatching(/^priceLists\[1\]\.effectiveFrom: undefined is not a date/));
  });

  test('fails when a price is negative, naming where', () => {
    const data = shipped();
    data.serverTypes.cx33.prices['2026-06-15'].eu.monthly = -8.49;
    data.storageBoxes.bx11.prices['2026-04-01'].monthly = -1;
    data.volumes.prices['2026-04-01'].perGbMonth = -0.0572;
    expect(priceDataProblems(data)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^serverTypes\.cx33\.prices\.2026-06-15\.eu\.monthly: -8\.49 is not allowed: a price is a non-negative number/),
      expect.stringMatching(/^storageBoxes\.bx11\.prices\.2026-04-01\.monthly: -1 is not allowed/),
      expect.stringMatching(/^volumes\.prices\.2026-04-01\.perGbMonth: -0\.0572 is not allowed/),
    ]));
  });

  test('fails when a price has no source, or an unknown one, or an unknown price list', () => {
    const data = shipped();
    data.serverTypes.cx23.sources = [];
    data.loadBalancers.lb11.sources = ['NOWHERE'];
    data.primaryIps.ipv4.prices['2027-01-01'] = { monthly: 0.6 };
    expect(priceDataProblems(data)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^serverTypes\.cx23\.sources: missing/),
      expect.stringMatching(/^loadBalancers\.lb11\.sources: 'NOWHERE' is not a listed source/),
      expect.stringMatching(/^primaryIps\.ipv4\.prices\.2027-01-01: '2027-01-01' is not a price list/),
    ]));
  });

  test('a PriceList refuses bad data, listing every problem', () => {
    const data = shipped();
    delete data.takenOn;
    data.serverTypes.cx23.prices['2026-06-15'].eu.hourly = 'cheap';
    expect(() => PriceList.fromData(data)).toThrow(/price data is not usable:\n {2}takenOn: .*\n {2}serverTypes\.cx23\.prices\.2026-06-15\.eu\.hourly: "cheap" is not allowed/);
  });

  test('prices every server type of the catalog for a new order wherever it can be ordered', () => {
    const prices = PriceList.hetzner();
    const missing: string[] = [];
    for (const type of ServerType.all()) {
      for (const location of type.locationNames.map((n) => Location.of(n))) {
        if (type.isDeprecatedIn(location)) continue;
        try {
          prices.serverType(type.name, location.name, { billingDate: '2026-11-25' });
        } catch (e) {
          missing.push(`${type.name} in ${location.name}: ${(e as Error).message}`);
        }
      }
    }
    // CCX and CPX gen1 in the US had no April price collected; US new orders are priced (June list).
    expect(missing).toEqual([]);
  });

  test('prices deprecated types for the servers that still exist, never for new orders', () => {
    const prices = PriceList.hetzner();
    expect(prices.serverType('cx22', 'fsn1', { billingDate: '2026-11-25', orderedOn: '2025-11-01' }).monthly.toString()).toBe('€4.49');
    expect(() => prices.serverType('cx22', 'fsn1', { billingDate: '2026-11-25' }))
      .toThrow(/'cx22' in fsn1 has no known price: it cannot be ordered in fsn1 since 2025-12-31.*Fix: move to a current type, or, for an existing server, pass the date/);
  });

  test('every hcloud resource type is priced, listed as free with its basis, or knowingly unpriced', () => {
    const schema = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'schema', 'hcloud-provider-schema.json'), 'utf8'));
    const types = Object.keys((Object.values(schema.provider_schemas)[0] as any).resource_schemas).sort();
    const data = shipped();
    const priced = ['hcloud_server', 'hcloud_primary_ip', 'hcloud_floating_ip', 'hcloud_volume', 'hcloud_snapshot', 'hcloud_storage_box', 'hcloud_load_balancer'];
    const free = Object.keys(data.freeResourceTypes);
    // No source in the reference facts says what these cost: the estimator names them in an error.
    const unpriced = types.filter((t) => !priced.includes(t) && !free.includes(t));
    expect(unpriced).toEqual(['hcloud_certificate', 'hcloud_uploaded_certificate', 'hcloud_zone', 'hcloud_zone_record', 'hcloud_zone_rrset']);
    for (const [type, entry] of Object.entries(data.freeResourceTypes as Record<string, { basis: string; sources: string[] }>)) {
      expect(types).toContain(type);
      expect(entry.sources.every((s) => s in data.sources)).toBe(true);
    }
  });
});

// Audit (cost): a price file of one's own without "basis" gave an estimate whose amounts said nothing of VAT.
test('a price file must say whether its prices are net or include VAT', () => {
  const data = JSON.parse(fs.readFileSync(path.join(__dirname, '../../lib/cost/hetzner-prices.json'), 'utf8'));
  delete data.basis;
  expect(priceDataProblems(data)).toContainEqual(expect.stringMatching(/^basis: undefined is not allowed: every estimate says what its amounts are, net or with VAT\. Fix: set "basis"/));
});

import { PriceList } from '../../lib/cost/price-list';

const prices = PriceList.hetzner();
const NOW = '2026-11-25';

describe('PriceList: which prices apply, and to what', () => {
  test('a new server pays the 2026-06-15 list', () => {
    const cx33 = prices.serverType('cx33', 'fsn1', { billingDate: NOW });
    expect([cx33.list, cx33.monthly.toString(), cx33.hourly?.toString(4), cx33.confidence]).toEqual(['2026-06-15', '€8.49', '€0.0136', 'high']);
  });

  test('a server ordered before 2026-06-15 and never rescaled keeps the 2026-04-01 price', () => {
    expect(prices.serverType('cx33', 'fsn1', { billingDate: NOW, orderedOn: '2026-05-01' }).monthly.toString()).toBe('€6.49');
    expect(prices.serverType('cx33', 'fsn1', { billingDate: NOW, orderedOn: '2026-06-14' }).list).toBe('2026-04-01');
    expect(prices.serverType('cx33', 'fsn1', { billingDate: NOW, orderedOn: '2026-06-15' }).list).toBe('2026-06-15');
  });

  test('the 2026-04-01 increase applied to existing servers too; before it, the 2025-10-16 list', () => {
    expect(prices.serverType('cx33', 'fsn1', { billingDate: NOW, orderedOn: '2025-11-01' }).monthly.toString()).toBe('€6.49');
    expect(prices.serverType('cx33', 'fsn1', { billingDate: '2026-02-01', orderedOn: '2025-11-01' }).monthly.toString()).toBe('€4.99');
  });

  test('a price list applies from its effective date itself, not from the day after', () => {
    expect(prices.primaryIp('ipv4', { billingDate: '2026-03-31' }).list).toBe('2025-10-16');
    expect(prices.primaryIp('ipv4', { billingDate: '2026-04-01' }).list).toBe('2026-04-01');
    expect(prices.serverType('cx33', 'fsn1', { billingDate: '2026-06-14' }).list).toBe('2026-04-01');
    expect(prices.serverType('cx33', 'fsn1', { billingDate: '2026-06-15' }).list).toBe('2026-06-15');
  });

  test('the June change left IPs, volumes, snapshots and storage on the April list', () => {
    expect(prices.primaryIp('ipv4', { billingDate: NOW })).toMatchObject({ list: '2026-04-01' });
    expect(prices.primaryIp('ipv4', { billingDate: NOW }).monthly.toString()).toBe('€0.50');
    expect(prices.primaryIp('ipv6', { billingDate: NOW }).monthly.isZero()).toBe(true);
    expect(prices.perGbMonth('volumes', { billingDate: NOW }).monthly.toString(4)).toBe('€0.0572');
    expect(prices.perGbMonth('snapshots', { billingDate: '2026-03-31' }).monthly.toString(4)).toBe('€0.0110');
  });

  test('prices differ by location where Hetzner charges differently', () => {
    expect(prices.serverType('ccx13', 'nbg1', { billingDate: NOW }).monthly.toString()).toBe('€42.99');
    expect(prices.serverType('ccx13', 'ash', { billingDate: NOW }).monthly.toString()).toBe('€43.49');
    expect(prices.serverType('ccx13', 'sin', { billingDate: NOW }).monthly.toString()).toBe('€53.99');
    expect(prices.trafficOverage('sin').monthly.toString()).toBe('€7.40');
  });

  test('a Storage Box uses its last verified price, and says it is assumed', () => {
    const box = prices.storageBox('bx11', { billingDate: NOW });
    expect([box.monthly.toString(), box.confidence, box.list]).toEqual(['€3.20', 'low', '2026-04-01']);
    expect(box.assumed).toMatch(/last verified price \(hetzner\.com, 2026-02-04\)/);
  });

  test('fails when a load balancer type has no verified current price', () => {
    expect(prices.loadBalancer('lb11', 'fsn1', { billingDate: NOW }).monthly.toString()).toBe('€7.49');
    expect(() => prices.loadBalancer('lb31', 'fsn1', { billingDate: NOW }))
      .toThrow(/load balancer type 'lb31' in fsn1 has no known price: the 2026-04-01 price list has no eu price for it \(priced under: 2025-10-16\)\. Fix: add its verified eu price/);
  });

  test('fails on an unknown server type, location or date, naming it', () => {
    expect(() => prices.serverType('cx99', 'fsn1', { billingDate: NOW })).toThrow(/server type 'cx99' has no known price: it is not in the price file.*Fix:/);
    expect(() => prices.serverType('cx23', 'mars1', { billingDate: NOW })).toThrow(/location 'mars1' has no known price/);
    expect(() => prices.serverType('cx23', 'fsn1', { billingDate: '2026-13-01' })).toThrow(/billingDate: '2026-13-01' is not allowed: it is not a date/);
    expect(() => prices.serverType('cx23', 'fsn1', { billingDate: '2025-01-01' })).toThrow(/the price file starts on 2025-10-16/);
    expect(() => prices.floatingIp('ipv6', { billingDate: NOW })).toThrow(/floating IP type 'ipv6' has no known price/);
  });
});

import * as fs from 'fs';
import * as path from 'path';
import { domainToASCII } from 'url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { decode, encode, ExtData } from '@msgpack/msgpack';
import { HetznerStandIn } from '../../testing';
import { ReattachDaemon } from '../../testing/harness/reattach-daemon';
import { goIdnaToASCII, goQuote, punycodeDecode, punycodeEncode } from '../../testing/provider/functions/go-idna';
import { formatTxtRecord } from '../../testing/provider/functions/txt-record';

// hcloud v1.68.0 has two provider-defined functions (hcloud/plugin_provider.go:270-275). The committed
// schema carries their signatures the way Terraform 1.11 prints them; the stand-in serves them and
// runs them as the provider does. Expected values are the provider's and hcloud-go's own test vectors,
// RFC 3492's samples, and Node's independent UTS #46 implementation where Go's profile agrees with it.

const ROOT = path.resolve(__dirname, '..', '..');
const committed = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'hcloud-provider-schema.json'), 'utf8'));
const ADDRESS = 'registry.terraform.io/hetznercloud/hcloud';

describe('provider::hcloud::idna is Go\'s idna.ToASCII (the raw Punycode profile)', () => {
  test('the provider\'s own test vector and the everyday case', () => {
    // internal/zone/function_idna_test.go:27-29
    expect(goIdnaToASCII('exämple-🍪.com')).toBe('xn--exmple--6wa71795i.com');
    expect(goIdnaToASCII('bücher.example')).toBe('xn--bcher-kva.example');
    expect(goIdnaToASCII('example.com')).toBe('example.com');
  });

  test('RFC 3492 section 7.1 samples, case of basic code points kept', () => {
    expect(punycodeEncode('', '他们为什么不说中文')).toBe('ihqwcrb4cv8a8dqg056pqjye');
    expect(punycodeEncode('', 'ليهمابتكلموشعربي؟')).toBe('egbpdaj6bu4bxfgehfvwxn');
    expect(punycodeEncode('', '3年B組金八先生')).toBe('3B-ww4c5e180e575a65lsy2b');
    expect(punycodeDecode('3B-ww4c5e180e575a65lsy2b')).toBe('3年B組金八先生');
    expect(punycodeDecode('ihqwcrb4cv8a8dqg056pqjye')).toBe('他们为什么不说中文');
  });

  test('unlike Node\'s url.domainToASCII (UTS #46) it maps nothing: no lower-casing, no dot folding', () => {
    expect(goIdnaToASCII('Bücher.example')).toBe('xn--Bcher-kva.example');
    expect(domainToASCII('Bücher.example')).toBe('xn--bcher-kva.example');
    expect(goIdnaToASCII('EXAMPLE.com')).toBe('EXAMPLE.com');
    // U+3002 IDEOGRAPHIC FULL STOP is a label separator in UTS #46, a character for Go's Punycode profile.
    expect(goIdnaToASCII('bücher。example')).toBe(`xn--${punycodeEncode('', 'bücher。example')}`);
    expect(domainToASCII('bücher。example')).toBe('xn--bcher-kva.example');
  });

  test('"xn--" labels are decoded and encoded again, the way Go does it', () => {
    expect(goIdnaToASCII('xn--bcher-kva.example')).toBe('xn--bcher-kva.example');
    expect(goIdnaToASCII('xn--Bcher-KVA.example')).toBe('xn--Bcher-kva.example'); // digits are case-insensitive, re-encoded lower-case
    expect(goIdnaToASCII('xn--abc-.example')).toBe('abc.example'); // all-ASCII decoding accepted below Unicode 16 (Go 1.26)
    expect(goIdnaToASCII('xn--.example')).toBe('.example');
    expect(goIdnaToASCII('ü.')).toBe('xn--tda.');
    expect(goIdnaToASCII('a..b.')).toBe('a..b.');
  });

  test('failures carry Go\'s label error text', () => {
    expect(() => goIdnaToASCII('xn--ab-c!.example')).toThrow('idna: invalid label "ab-c!"');
    expect(() => goIdnaToASCII('xn---abc')).toThrow('idna: invalid label "-abc"');
    expect(() => goIdnaToASCII('ok.xn--zz9999999999.x')).toThrow('idna: invalid label "zz9999999999"'); // decoded code point beyond U+10FFFF
    // The first error wins; a later label is still processed but its error is not reported.
    expect(() => goIdnaToASCII('xn--a!.xn--b!')).toThrow('idna: invalid label "a!"');
    // encode: delta overflows int32 for a long label with a far code point; the label is the whole Unicode label.
    const long = `${'a'.repeat(3000)}\u{10FFFF}`;
    expect(() => goIdnaToASCII(long)).toThrow(`idna: invalid label ${goQuote(long)}`);
    expect(goQuote('a"b\\c\n\u00a0é\u{1F36A}\u0007')).toBe('"a\\"b\\\\c\\n\\u00a0é\u{1F36A}\\a"');
  });

  test('agrees with Node\'s UTS #46 on lower-case, already mapped labels (2000 generated names)', () => {
    const alphabet = Array.from('abcdefghijklmnopqrstuvwxyz0123456789-äöüßéèñçøåæœžşğıąłđ日本語中文한국어ไทยελληνικάрусский🍪');
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const disagreements: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const label = () => Array.from({ length: 1 + random(15) }, () => alphabet[random(alphabet.length)]).join('').replace(/^-+|-+$/g, 'x');
      const name = `${label()}.${label()}.example`;
      const node = domainToASCII(name);
      // Node refuses some names (e.g. "--" in positions 3-4): Go's profile has no such check.
      if (node !== '' && goIdnaToASCII(name) !== node) disagreements.push(`${name}: ${goIdnaToASCII(name)} vs ${node}`);
      expect(goIdnaToASCII(goIdnaToASCII(name))).toBe(goIdnaToASCII(name));
    }
    expect(disagreements).toEqual([]);
  });
});

describe('provider::hcloud::txt_record is hcloud-go\'s zoneutil.FormatTXTRecord', () => {
  const text = (v: string) => formatTxtRecord(v).toString('utf8');
  const manyA = 'a'.repeat(255);
  const fewB = 'b'.repeat(10);

  test('hcloud-go\'s test vectors (hcloud/exp/zoneutil/txt_test.go)', () => {
    expect(text('')).toBe('');
    expect(text('""')).toBe('"\\"\\""');
    expect(text('hello world')).toBe('"hello world"');
    expect(text(manyA + fewB)).toBe(`"${manyA}" "${fewB}"`);
    expect(text('hello\nworld')).toBe('"hello\nworld"');
    expect(text('hello "world"')).toBe('"hello \\"world\\""');
    expect(text('hello "world')).toBe('"hello \\"world"');
  });

  test('chunks are 255 bytes of the escaped text: a cut may split a character or an escape', () => {
    // 254 ASCII bytes, then "é" (2 bytes): the chunk ends inside the character.
    const split = formatTxtRecord(`${'a'.repeat(254)}é`);
    expect(split).toEqual(Buffer.concat([Buffer.from(`"${'a'.repeat(254)}`), Buffer.from([0xc3]), Buffer.from('" "'), Buffer.from([0xa9]), Buffer.from('"')]));
    // 254 bytes, then a quote: escaped to \" whose backslash ends the first chunk.
    expect(text(`${'a'.repeat(254)}"`)).toBe(`"${'a'.repeat(254)}\\" """`);
    expect(text('x'.repeat(510))).toBe(`"${'x'.repeat(255)}" "${'x'.repeat(255)}"`);
    expect(text('\\')).toBe('"\\"'); // backslashes are not escaped
  });
});

describe('the stand-in serves the functions over plugin protocol 6', () => {
  const definition = protoLoader.loadSync(
    [path.join(ROOT, 'testing/proto/tfplugin6.proto'), path.join(ROOT, 'testing/proto/grpc_controller.proto')],
    { keepCase: true, longs: Number, enums: String, bytes: Buffer, oneofs: true, defaults: false },
  );
  const pkg = grpc.loadPackageDefinition(definition) as any;
  let daemon: ReattachDaemon;
  let provider: any;
  const call = (method: string, request: object): Promise<any> =>
    new Promise((resolve, reject) => provider[method](request, (err: Error | null, res: any) => (err ? reject(err) : resolve(res))));
  const callFunction = (name: string, ...args: unknown[]) => call('CallFunction', { name, arguments: args.map((a) => ({ msgpack: Buffer.from(encode(a)) })) });
  const result = (res: any) => Buffer.from(decode(res.result.msgpack) as string);

  beforeAll(() => {
    daemon = ReattachDaemon.start();
    provider = new pkg.tfplugin6.Provider(JSON.parse(daemon.reattachProviders)[ADDRESS].Addr.String, grpc.credentials.createInsecure());
  });
  afterAll(() => {
    provider?.close();
    daemon?.stop();
  });

  test('GetProviderSchema, GetFunctions and GetMetadata declare idna and txt_record as the framework does', async () => {
    const schema = await call('GetProviderSchema', {});
    expect(schema.diagnostics ?? []).toEqual([]);
    expect(Object.keys(schema.functions).sort()).toEqual(['idna', 'txt_record']);
    const idna = schema.functions.idna;
    expect(idna).toMatchObject({
      summary: 'Convert a Internationalized Domain Name (IDN) to ASCII',
      description: committed.provider_schemas[ADDRESS].functions.idna.description,
      description_kind: 'MARKDOWN', // function_idna.go sets MarkdownDescription
      return: { type: Buffer.from('"string"') },
    });
    expect(idna.parameters).toHaveLength(1);
    expect(idna.parameters[0]).toMatchObject({ name: 'domain', type: Buffer.from('"string"'), description: 'Domain to convert.', description_kind: 'PLAIN' });
    // Off, so Terraform refuses null and skips unknown arguments itself (proto3 leaves false fields out).
    expect(idna.parameters[0].allow_null_value ?? false).toBe(false);
    expect(idna.parameters[0].allow_unknown_values ?? false).toBe(false);
    expect(schema.functions.txt_record.parameters[0]).toMatchObject({ name: 'record', description: 'Record value to format.' });

    const functions = await call('GetFunctions', {});
    expect(functions.functions).toEqual(schema.functions);
    const metadata = await call('GetMetadata', {});
    expect(metadata.functions.map((f: any) => f.name).sort()).toEqual(['idna', 'txt_record']);
  });

  test('CallFunction returns the provider\'s results', async () => {
    expect(result(await callFunction('idna', 'bücher.example')).toString()).toBe('xn--bcher-kva.example');
    const record = 'v=spf1 '.padEnd(300, 'x');
    expect(result(await callFunction('txt_record', record)).toString()).toBe(`"${record.slice(0, 255)}" "${record.slice(255)}"`);
    // The bytes of a cut inside a character reach Terraform unchanged (no U+FFFD substitution).
    const res = await callFunction('txt_record', `${'a'.repeat(254)}é`);
    const expected = Buffer.concat([Buffer.from(`"${'a'.repeat(254)}`), Buffer.from([0xc3]), Buffer.from('" "'), Buffer.from([0xa9]), Buffer.from('"')]);
    // msgpack str 16 (0xda, big-endian length), then exactly those bytes.
    expect(Buffer.from(res.result.msgpack)).toEqual(Buffer.concat([Buffer.from([0xda, expected.length >> 8, expected.length & 0xff]), expected]));
  });

  test('a domain Go cannot convert is a function error without an argument index, worded as the provider words it', async () => {
    const res = await callFunction('idna', 'xn--ab-c!.example');
    expect(res.result ?? null).toBeNull();
    expect(res.error.text).toBe('failed to convert domain to ASCII: idna: invalid label "ab-c!"');
    expect(res.error.function_argument).toBeUndefined();
  });

  test('an argument that is not a string is the framework\'s error at that argument\'s index', async () => {
    const res = await callFunction('txt_record', 42);
    expect(res.error.function_argument).toBe(0);
    expect(res.error.text).toMatch(/^Unable to Convert Function Argument: .*Unable to unmarshal DynamicValue at position 0: /s);
  });

  test('null, unknown, a wrong argument count or an unknown name fail as terraform-plugin-framework fails them', async () => {
    expect((await callFunction('idna', null)).error.text).toMatch(/^Value Conversion Error: .*Received null value.*Target Type: string/s);
    expect((await callFunction('idna', new ExtData(0, new Uint8Array([0])))).error.text).toMatch(/^Value Conversion Error: .*Received unknown value/s);
    const count = await callFunction('idna', 'a', 'b');
    expect(count.error.text).toMatch(/^Unexpected Function Arguments Data: .*Expected function arguments: 1\nGiven function arguments: 2$/s);
    expect(count.error.function_argument).toBeUndefined();
    expect((await callFunction('punycode', 'a')).error.text).toBe('Function Not Found: No function named "punycode" was found in the provider.');
  });
});

describe('Terraform calls the functions through the stand-in', () => {
  const standIn = new HetznerStandIn({ reattach: true });
  afterAll(() => standIn.stop(true));

  // A 300-character DKIM-like record with quotes: two chunks, quotes escaped.
  const record = `v=DKIM1; k=rsa; n="note"; p=${'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'.repeat(7)}`.slice(0, 300);
  const escaped = record.replace(/"/g, '\\"');
  const config = (domain: string) => ({
    terraform: { required_providers: { hcloud: { source: 'hetznercloud/hcloud', version: '1.68.0' } } },
    variable: { record: { type: 'string' } },
    output: {
      domain: { value: `\${provider::hcloud::idna("${domain}")}` },
      txt: { value: '${provider::hcloud::txt_record(var.record)}' },
    },
  });

  test('plan and apply give the provider\'s results in outputs', () => {
    expect(record).toHaveLength(300);
    const ws = standIn.workspace(config('bücher.example'), { name: 'functions' }).setVariables({ TF_VAR_record: record });
    const plan = ws.plan();
    expect(plan.run.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const planned = plan.changes!.json.planned_values.outputs;
    expect(planned.domain.value).toBe('xn--bcher-kva.example');
    expect(planned.txt.value).toBe(`"${escaped.slice(0, 255)}" "${escaped.slice(255)}"`);
    const apply = ws.apply();
    expect(apply.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(ws.outputs()).toEqual({ domain: 'xn--bcher-kva.example', txt: `"${escaped.slice(0, 255)}" "${escaped.slice(255)}"` });
  });

  test('a domain the provider cannot convert fails the plan with the provider\'s error', () => {
    const ws = standIn.workspace(config('xn--ab-c!.example'), { name: 'functions-bad' }).setVariables({ TF_VAR_record: 'x' });
    const plan = ws.plan();
    expect(plan.run.ok).toBe(false);
    const errors = plan.run.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.summary)).toEqual(['Error in function call']);
    expect(errors[0].detail).toBe('Call to function "provider::hcloud::idna" failed: failed to convert domain to ASCII: idna: invalid label "ab-c!".');
  });

  test('null never reaches the stand-in: Terraform refuses it, as the served allow_null_value says', () => {
    const ws = standIn.workspace({ ...config('x'), output: { domain: { value: '${provider::hcloud::idna(null)}' } } }, { name: 'functions-null' })
      .setVariables({ TF_VAR_record: 'x' });
    const plan = ws.plan();
    expect(plan.run.ok).toBe(false);
    const errors = plan.run.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.summary)).toEqual(['Invalid function argument']);
    expect(errors[0].detail).toMatch(/Invalid value for "domain" parameter: argument must not be null\./);
  });
});

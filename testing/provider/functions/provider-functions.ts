import { decode, ExtData } from '@msgpack/msgpack';
import { CtyType, FunctionJson, FunctionParameterJson, SchemaError } from '../schema';
import { DynamicValue } from '../values';
import { goIdnaToASCII, IdnaError } from './go-idna';
import { formatTxtRecord } from './txt-record';

/**
 * hcloud v1.68.0's provider-defined functions (`provider::hcloud::idna`, `provider::hcloud::txt_record`,
 * registered in hcloud/plugin_provider.go:270-275) as the stand-in serves them over protocol 6:
 * signatures from the committed schema file, behaviour ported from the provider's Go code, and the
 * terraform-plugin-framework v1.19.0 handling around a call (argument decoding and its errors).
 *
 * Terraform core checks a call against the signature before it reaches a provider: it refuses a
 * null argument itself (allow_null_value is off) and returns an unknown result without calling while
 * an argument is unknown (allow_unknown_values is off). Those two framework errors below are
 * therefore seen only by clients that speak gRPC to the stand-in directly.
 */

/** A function call's failure, as CallFunction returns it: a text and, when one argument is at fault, its index. */
export class FunctionCallError extends Error {
  constructor(
    /** What Terraform shows after "Call to function ... failed:" (or as the argument's problem). */
    public readonly text: string,
    /** Zero-based index of the argument at fault; Terraform then names that parameter. */
    public readonly argument?: number,
  ) {
    super(text);
    this.name = 'FunctionCallError';
  }
}

/** A tfplugin6 `Function.Parameter`, as proto-loader takes it. */
export interface ProtoFunctionParameter {
  /** The parameter's name, for documentation and error messages (arguments are positional). */
  name: string;
  /** cty type JSON, such as `"string"`. */
  type: Buffer;
  /** Whether Terraform may pass null; otherwise it refuses the call itself. */
  allow_null_value: boolean;
  /** Whether Terraform may pass unknown values; otherwise it returns an unknown result without calling. */
  allow_unknown_values: boolean;
  /** The parameter's description. */
  description: string;
  /** The description's format. */
  description_kind: 'PLAIN' | 'MARKDOWN';
}

/** A tfplugin6 `Function`, as proto-loader takes it. */
export interface ProtoFunction {
  /** The positional parameters. */
  parameters: ProtoFunctionParameter[];
  /**
   * A final parameter taking zero or more arguments.
   * @default - none
   */
  variadic_parameter?: ProtoFunctionParameter;
  /** The result's cty type JSON. */
  return: { type: Buffer };
  /** A one-line summary. */
  summary: string;
  /** The full description. */
  description: string;
  /** The description's format. */
  description_kind: 'PLAIN' | 'MARKDOWN';
  /** Why the function is deprecated; empty when it is not. */
  deprecation_message: string;
}

/** A tfplugin6 `CallFunction.Response`, as proto-loader takes it. */
export interface CallFunctionResponse {
  /**
   * The result, a msgpack DynamicValue.
   * @default - none when the call failed
   */
  result?: { msgpack: Buffer };
  /**
   * The failure: its text and, when one argument is at fault, that argument's zero-based index.
   * @default - none when the call succeeded
   */
  error?: { text: string; function_argument?: number };
}

/** What the stand-in knows of a function beyond its JSON signature. */
interface Implementation {
  /**
   * The description's kind, which the JSON does not keep. The framework sends MARKDOWN for a
   * `MarkdownDescription`, PLAIN for a `Description` (internal/toproto6/function.go:22-28); both
   * functions set `MarkdownDescription`, and their parameters `Description`.
   */
  readonly descriptionKind: 'PLAIN' | 'MARKDOWN';
  readonly parameterDescriptionKind: 'PLAIN' | 'MARKDOWN';
  /** The function's Run with its string arguments; the result's UTF-8 bytes. Throws a {@link FunctionCallError}. */
  run(args: string[]): Buffer;
}

const IMPLEMENTATIONS: Readonly<Record<string, Implementation>> = {
  // terraform-provider-hcloud v1.68.0 internal/zone/function_idna.go:39-55
  idna: {
    descriptionKind: 'MARKDOWN',
    parameterDescriptionKind: 'PLAIN',
    run: ([domain]) => {
      try {
        return Buffer.from(goIdnaToASCII(domain), 'utf8');
      } catch (e) {
        // function_idna.go:49: function.NewFuncError, without an argument index.
        if (e instanceof IdnaError) throw new FunctionCallError(`failed to convert domain to ASCII: ${e.message}`);
        throw e;
      }
    },
  },
  // terraform-provider-hcloud v1.68.0 internal/zonerrset/function_txt_record.go:38-49 (never fails)
  txt_record: {
    descriptionKind: 'MARKDOWN',
    parameterDescriptionKind: 'PLAIN',
    run: ([record]) => formatTxtRecord(record),
  },
};

/** A parameter type the stand-in's functions take: both of hcloud's take and return strings. */
const SERVED_TYPE: CtyType = 'string';

/** The functions of the schema file, checked against what the stand-in implements. */
export class ProviderFunctions {
  /** Functions the file declares that the stand-in cannot serve, each with why. */
  public readonly errors: SchemaError[] = [];
  private readonly served = new Map<string, { json: FunctionJson; implementation: Implementation }>();

  constructor(functions: Readonly<Record<string, FunctionJson>>) {
    for (const [name, json] of Object.entries(functions)) {
      const where = `function ${name}`;
      const implementation = IMPLEMENTATIONS[name];
      const problem = !implementation
        ? `the stand-in implements only ${Object.keys(IMPLEMENTATIONS).join(', ')}`
        : signatureProblem(json);
      if (problem) this.errors.push(new SchemaError(where, problem));
      else this.served.set(name, { json, implementation });
    }
  }

  /** The names of the functions served, for GetMetadata. */
  public names(): string[] {
    return [...this.served.keys()];
  }

  /** The `functions` map of GetProviderSchema and GetFunctions. */
  public protoFunctions(): Record<string, ProtoFunction> {
    return Object.fromEntries([...this.served].map(([name, { json, implementation }]) => [name, {
      parameters: (json.parameters ?? []).map((p) => protoParameter(p, implementation.parameterDescriptionKind)),
      variadic_parameter: json.variadic_parameter ? protoParameter(json.variadic_parameter, implementation.parameterDescriptionKind) : undefined,
      return: { type: Buffer.from(JSON.stringify(json.return_type)) },
      summary: json.summary ?? '',
      description: json.description ?? '',
      description_kind: implementation.descriptionKind,
      deprecation_message: json.deprecation_message ?? '',
    }]));
  }

  /** CallFunction: never throws; a failure is the response's `error`, as the framework returns it. */
  public call(request: { name?: string; arguments?: DynamicValue[] }): CallFunctionResponse {
    try {
      return { result: { msgpack: msgpackString(this.run(request.name ?? '', request.arguments ?? [])) } };
    } catch (e) {
      if (e instanceof FunctionCallError) return { error: { text: e.text, function_argument: e.argument } };
      return { error: { text: `Internal error in the Hetzner stand-in (CallFunction ${request.name}): ${e instanceof Error ? e.message : String(e)}` } };
    }
  }

  private run(name: string, args: DynamicValue[]): Buffer {
    const fn = this.served.get(name);
    // terraform-plugin-framework v1.19.0 internal/fwserver/server_functions.go:24-28
    if (!fn) throw new FunctionCallError(`Function Not Found: No function named ${JSON.stringify(name)} was found in the provider.`);
    const parameters = fn.json.parameters ?? [];
    // terraform-plugin-framework v1.19.0 internal/fromproto6/arguments_data.go:21-30
    if (args.length !== parameters.length) {
      throw new FunctionCallError('Unexpected Function Arguments Data: '
        + 'The provider received an unexpected number of function arguments from Terraform for the given function definition. '
        + 'This is always an issue in terraform-plugin-framework or Terraform itself and should be reported to the provider developers.\n\n'
        + `Expected function arguments: ${parameters.length}\n`
        + `Given function arguments: ${args.length}`);
    }
    const values = args.map((dv, position) => stringArgument(dv, position));
    // `req.Arguments.Get(ctx, &domain)` into a Go string (function/arguments_data.go:99-101 and
    // internal/reflect/into.go:109-150): FuncErrorFromDiags joins summary and detail, no argument index.
    const strings = values.map((v) => {
      if (v === null) {
        throw new FunctionCallError('Value Conversion Error: An unexpected error was encountered trying to build a value. This is always an error in the provider. Please report the following to the provider developer:\n\n'
          + 'Received null value, however the target type cannot handle null values. Use the corresponding `types` package type, a pointer type or a custom type that handles null values.\n\n'
          + 'Path: \nTarget Type: string\nSuggested `types` Type: basetypes.StringValue\nSuggested Pointer Type: *string');
      }
      if (v instanceof ExtData) {
        throw new FunctionCallError('Value Conversion Error: An unexpected error was encountered trying to build a value. This is always an error in the provider. Please report the following to the provider developer:\n\n'
          + 'Received unknown value, however the target type cannot handle unknown values. Use the corresponding `types` package type or a custom type that handles unknown values.\n\n'
          + 'Path: \nTarget Type: string\nSuggested Type: basetypes.StringValue');
      }
      return v;
    });
    return fn.implementation.run(strings);
  }
}

function signatureProblem(json: FunctionJson): string | undefined {
  if (!json || typeof json !== 'object') return 'the signature is not an object';
  if (json.return_type !== SERVED_TYPE) return `return_type ${JSON.stringify(json.return_type)} is not "string"`;
  if (json.variadic_parameter) return 'a variadic parameter is not served';
  const bad = (json.parameters ?? []).find((p) => p.type !== SERVED_TYPE || p.is_nullable);
  if (bad) return `parameter ${JSON.stringify(bad.name)} must be a non-nullable string`;
  if ((json.parameters ?? []).length !== 1) return 'exactly one parameter is expected';
  return undefined;
}

function protoParameter(p: FunctionParameterJson, kind: 'PLAIN' | 'MARKDOWN'): ProtoFunctionParameter {
  return {
    name: p.name ?? '',
    type: Buffer.from(JSON.stringify(p.type)),
    allow_null_value: !!p.is_nullable,
    // `terraform providers schema -json` does not print it; both hcloud functions leave it off.
    allow_unknown_values: false,
    description: p.description ?? '',
    description_kind: p.description ? kind : 'PLAIN',
  };
}

/**
 * A string argument: its text, null, or an unknown (any msgpack extension, as tftypes reads it).
 * A value that is not a string is the framework's argument error at that position
 * (internal/fromproto6/arguments_data.go:79-91); the part after "position N:" is tftypes' decoding
 * error in Go, which the stand-in words like vmihailenco/msgpack does but cannot promise to match.
 */
function stringArgument(dv: DynamicValue | undefined, position: number): string | null | ExtData {
  const fail = (why: string): never => {
    throw new FunctionCallError('Unable to Convert Function Argument: '
      + 'An unexpected error was encountered when converting the function argument from the protocol type. '
      + 'This is always an issue in terraform-plugin-framework used to implement the provider and should be reported to the provider developers.\n\n'
      + 'Please report this to the provider developer:\n\n'
      + `Unable to unmarshal DynamicValue at position ${position}: ${why}`, position);
  };
  if (dv?.msgpack && dv.msgpack.length > 0) {
    let v: unknown;
    try {
      v = decode(dv.msgpack);
    } catch (e) {
      return fail(`error decoding string: ${(e as Error).message}`);
    }
    if (v === null || typeof v === 'string' || v instanceof ExtData) return v;
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8'); // msgpack bin: Go reads it as a string too
    return fail(`error decoding string: msgpack: invalid code=${Buffer.from(dv.msgpack).readUInt8(0).toString(16)} decoding string/bytes length`);
  }
  if (dv?.json && dv.json.length > 0) {
    let v: unknown;
    try {
      v = JSON.parse(Buffer.from(dv.json).toString('utf8'));
    } catch (e) {
      return fail(`error decoding JSON: ${(e as Error).message}`);
    }
    if (v === null || typeof v === 'string') return v;
    return fail(`a JSON string or null is expected, not ${Array.isArray(v) ? 'an array' : typeof v}`);
  }
  return fail('error decoding string: EOF');
}

/**
 * A msgpack string holding exactly these bytes (str 8/16/32; Terraform reads a msgpack string as cty
 * string). Written by hand because @msgpack/msgpack encodes only JavaScript strings, which cannot
 * carry the invalid UTF-8 that txt_record can produce when it cuts inside a character.
 */
export function msgpackString(bytes: Buffer): Buffer {
  const n = bytes.length;
  let header: Buffer;
  if (n < 32) header = Buffer.from([0xa0 | n]);
  else if (n < 0x100) header = Buffer.from([0xd9, n]);
  else if (n < 0x10000) header = Buffer.from([0xda, n >> 8, n & 0xff]);
  else {
    header = Buffer.alloc(5);
    header[0] = 0xdb;
    header.writeUInt32BE(n, 1);
  }
  return Buffer.concat([header, bytes]);
}

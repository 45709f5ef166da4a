import { At, CheckWithFix, fail, is, requireInstance, withFix } from './runtime-checks';
import { invalidValue, ValidationError } from './validation-message';

const PORT_TEXT = /^(\d{1,5})(?:-(\d{1,5}))?$/;

/**
 * A TCP or UDP port, or an inclusive range of ports, as a Hetzner firewall rule takes it.
 *
 * Built from a number (`Port.of(22)`), two numbers (`Port.range(8000, 8080)`) or the text
 * Hetzner uses (`Port.parse('8000-8080')`); every factory refuses what Hetzner would refuse or
 * misread: not an integer, outside 1-65535, or a range whose end comes before its start.
 */
export class Port {
  /** Every port, 1-65535. */
  public static readonly ALL = new Port(1, 65535);

  /** One port. */
  public static of(port: number, at = 'Port.of'): Port {
    // One port is asked for here: a range would be no fix.
    return Port.checked(port, port, port, at, 'use a port such as 443, written as a number');
  }

  /** The ports from `from` to `to`, both included. */
  public static range(from: number, to: number, at = 'Port.range'): Port {
    return Port.checked(from, to, `${from}-${to}`, at);
  }

  /**
   * A port as written in props: a number, `'22'`, `'8000-8080'` or `'any'`, or a `Port`.
   * `at` names where the value came from, for the error.
   */
  public static parse(value: unknown, at = 'Port.parse'): Port {
    if (value instanceof Port) return value;
    if (typeof value === 'number') return Port.of(value, at);
    if (typeof value === 'string') {
      const text = value.trim();
      if (text === 'any') return Port.ALL;
      const match = PORT_TEXT.exec(text);
      if (match) return Port.checked(Number(match[1]), Number(match[2] ?? match[1]), value, at);
    }
    throw new ValidationError(invalidValue(at, 'port', value, 'a port is a whole number from 1 to 65535, or a range "from-to" of them',
      "write it as 443, '443', '8000-8080' or Port.range(8000, 8080)"));
  }

  private static checked(from: number, to: number, written: unknown, at: string, fix = 'use a port such as 443, or a range such as Port.range(8000, 8080)'): Port {
    for (const n of [from, to]) {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
        throw new ValidationError(invalidValue(at, 'port', written, 'a port is a whole number from 1 to 65535', fix));
      }
    }
    if (from > to) {
      throw new ValidationError(invalidValue(at, 'port', written, 'the range ends before it starts, so it would match nothing or be misread',
        `write it from low to high: '${to}-${from}'`));
    }
    return new Port(from, to);
  }

  private constructor(
    /** The first port of the range. */
    public readonly from: number,
    /** The last port of the range (the same as `from` for one port). */
    public readonly to: number,
  ) {}

  /** Whether `port` is in the range. */
  public includes(port: number): boolean {
    // From JavaScript, undefined or a Port answered false and '443' true: a question of the wrong type is refused.
    is.number('pass the port as a whole number, such as 443 (use contains for a Port)', { integer: true })('Port.includes', 'port', port);
    return port >= this.from && port <= this.to;
  }

  /** Whether every port of `other` is in this range. */
  public contains(other: Port): boolean {
    requireInstance('Port.contains', 'other', other, Port, 'pass a Port, such as Port.of(443) (use includes for a number)');
    return other.from >= this.from && other.to <= this.to;
  }

  /** Whether it is one port rather than a range. */
  public get isSingle(): boolean {
    return this.from === this.to;
  }

  /** As Hetzner writes it: `22`, `8000-8080`. */
  public toString(): string {
    return this.isSingle ? String(this.from) : `${this.from}-${this.to}`;
  }
}

/**
 * One port, from a `Port` (as every construct takes one) or a number, for what connects to or admits a single port:
 * a range is refused, saying what `what` does (such as 'a TCP check connects to'). The number's range is the caller's to check.
 */
export function onePort(at: string, port: unknown, what: string): number {
  if (port instanceof Port) return singleOf(at, 'port', port, what);
  is.number('pass the port the service listens on, such as Port.of(993) or 993', { integer: true })(at, 'port', port);
  return port as number;
}

/**
 * The check of a prop that takes one port as a `Port` or its number (`Port | number`): a range is refused, saying
 * what `what` does (such as 'PostgreSQL listens on'), and a number that is no port with `fix`.
 * @internal
 */
export function onePortProp(what: string, fix: string): CheckWithFix {
  return withFix(fix, (at, prop, value) => {
    if (value instanceof Port) singleOf(at, prop, value, what);
    else is.port(fix)(at, prop, value);
  });
}

function singleOf(at: At, prop: string, port: Port, what: string): number {
  if (!port.isSingle) fail(at, prop, port.toString(), `${what} one port, and this is a range`, `pass one port of it, such as Port.of(${port.from})`);
  return port.from;
}

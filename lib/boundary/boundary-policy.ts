import { DataClass } from '../core/data-class';
import { fail, optionalArray, propNames, refuseUnknownProps, requireArray, requireEnum, requireInstance, requireProps } from '../core/runtime-checks';
import { invalidValue, ValidationError } from '../core/validation-message';
import { EgressHost, extraHostConflict, requireEgressHost } from './egress-host';
import { hostnameProblem, isCheckedProcessor, Processor } from './processor';

/** The form in which data of a class may leave the EU control plane. */
export enum EgressForm {
  /** As stored. */
  RAW = 'raw',
  /** Only after pseudonymization or scrubbing inside the control plane. */
  PSEUDONYMIZED = 'pseudonymized',
}

/** The team's role under the EU AI Act; a team can be both. */
export enum AiActRole {
  /** Develops an AI system or model and places it on the market under its own name. */
  PROVIDER = 'provider',
  /** Uses an AI system under its authority, such as calling a model API in its product. */
  DEPLOYER = 'deployer',
}

/** Permission for one data class to leave to some processors, in one form. */
export interface EgressAllowance {
  /** The data class that may leave. */
  readonly dataClass: DataClass;
  /** The processors that may receive it (compared by value). */
  readonly to: Processor[];
  /** The form it must have when it leaves (raw, pseudonymized, …). */
  readonly form: EgressForm;
}

/** What the team declares about its data boundary: its AI Act roles and what may leave to whom. */
export interface BoundaryPolicyProps {
  /** The team's declared AI Act role(s). */
  readonly aiActRoles: AiActRole[];
  /** What may leave, to whom, in what form. A class without an allowance never leaves. */
  readonly egress: EgressAllowance[];
  /**
   * Further hosts every machine holding sensitive data may reach over HTTP(S), each with what it is for, such as
   * `EgressHost.publicOnly('registry.acme.eu', { reason: 'package registry: machines only download from it' })`.
   * Debian's mirrors (and Hetzner's) are always allowed. A bare string is refused (it said nothing about what the
   * host receives), and so is a processor's API or a known model provider's: that is a data flow. The host is
   * written as text: a token is refused, since the policy is judged and published at synth.
   * @default - none
   */
  readonly extraEgressHostnames?: EgressHost[];
}

/**
 * The hostnames every machine needs for its packages, with what each is: Debian's mirrors, and Hetzner's mirror of
 * them, which Hetzner's images name in their apt sources (it answers only inside Hetzner's network). Hetzner hosts the
 * data already, so its mirror adds no processor; without it, apt under the allowlist may find no source at all.
 */
export const PACKAGE_MIRRORS: Readonly<Record<string, string>> = {
  'deb.debian.org': 'Debian mirror',
  'security.debian.org': 'Debian mirror',
  'mirror.hetzner.com': "Hetzner's Debian mirror (Hetzner's images use it)",
};

/**
 * The data boundary as a policy object: for each data class, what may leave the EU control
 * plane, to which EU processor, and in what form. Everything not allowed never leaves.
 *
 * Allowances are exact: allowing pseudonymized data to Mistral says nothing about public data,
 * so a team can say "Mistral for pseudonymized data only" and the boundary document shows just that.
 * Processors are compared by value (name, legal seat, hostnames), so `Processor.mistralAi()` called
 * twice is one processor.
 *
 * The policy checks itself when built: processors need an EU legal seat and hostnames, secrets
 * never leave, sensitive data never leaves raw, and one class goes to one processor in one form.
 *
 * Build it with `new BoundaryPolicy({ … })`; do not subclass it: `BoundaryChecks` and `EgressAllowlist`
 * refuse an instance of a subclass (it could redefine `allows` or `processors`, which the rules read).
 */
export class BoundaryPolicy {
  /** The team's declared AI Act roles. */
  public readonly aiActRoles: readonly AiActRole[];
  /** Exactly what each processor may receive, as declared. */
  public readonly allowances: readonly EgressAllowance[];
  /** Hosts every restricted machine may reach besides the processors' and Debian's mirrors, each with its reason. */
  public readonly extraEgressHostnames: readonly EgressHost[];

  constructor(props: BoundaryPolicyProps) {
    const at = 'BoundaryPolicy';
    requireProps(at, props, 'pass { aiActRoles: [AiActRole.DEPLOYER], egress: [...] }');
    refuseUnknownProps(at, undefined, props, propNames<BoundaryPolicyProps>({ aiActRoles: true, egress: true, extraEgressHostnames: true }));
    const roles = requireArray(at, 'aiActRoles', props.aiActRoles, 'declare aiActRoles: [AiActRole.DEPLOYER] (and/or AiActRole.PROVIDER)', (role) => {
      if (!Object.values(AiActRole).includes(role as AiActRole)) fail(at, 'aiActRoles', role, 'it is not an AI Act role', 'use AiActRole.PROVIDER or AiActRole.DEPLOYER');
      return role as AiActRole;
    });
    this.aiActRoles = [...new Set(roles)];
    this.allowances = requireArray(at, 'egress', props.egress, 'list what may leave, such as [{ dataClass: DataClass.PUBLIC, to: [Processor.mistralAi()], form: EgressForm.RAW }], or [] when nothing may',
      (allowance, prop) => checkAllowance(at, prop, allowance));
    this.extraEgressHostnames = optionalArray(at, 'extraEgressHostnames', props.extraEgressHostnames,
      "list hosts such as [EgressHost.publicOnly('registry.acme.eu', { reason: '…' })]", (h, prop) => {
        const host = requireEgressHost(at, prop, h);
        const problem = hostnameProblem(host.hostname);
        if (problem) fail(at, prop, host.hostname, problem, "write only the host, such as 'registry.acme.eu'");
        return host;
      }) ?? [];
    const problem = this.firstProblem();
    if (problem) throw new ValidationError(problem);
    // Judged once the processors are known: a processor's API, or a model provider's, is a data flow.
    this.extraEgressHostnames.forEach((h, i) => {
      const conflict = extraHostConflict(h.hostname, this.processors, 'remove it from the extra hosts');
      if (conflict) fail(at, `extraEgressHostnames[${i}]`, h.hostname, ...conflict);
    });
    // Checked here, once: frozen (with its allowances; the processors freeze themselves), so that
    // no later edit from JavaScript widens what the rules and the allowlist read at synth.
    for (const allowance of this.allowances) Object.freeze(Object.freeze(allowance).to);
    Object.freeze(this.allowances);
    Object.freeze(this.aiActRoles);
    Object.freeze(this.extraEgressHostnames);
    Object.freeze(this);
    checkedPolicies.add(this);
  }

  /** Every processor named in the policy, each once (compared by value). */
  public get processors(): Processor[] {
    const unique: Processor[] = [];
    for (const p of this.allowances.flatMap((a) => a.to)) if (!unique.some((u) => u.equals(p))) unique.push(p);
    return unique;
  }

  /** Whether the policy names `processor` (compared by value). */
  public hasProcessor(processor: Processor): boolean {
    askedAbout('hasProcessor', { processor });
    return this.processors.some((p) => p.equals(processor));
  }

  /** Exactly what `processor` may receive: each class it may get, and in which form. */
  public allowancesFor(processor: Processor): Array<Pick<EgressAllowance, 'dataClass' | 'form'>> {
    return DataClass.all().flatMap((dataClass) => {
      const form = this.formFor(dataClass, processor);
      return form ? [{ dataClass, form }] : [];
    });
  }

  /** The form in which `dataClass` may go to `processor`, or `undefined` if it may not. */
  public formFor(dataClass: DataClass, processor: Processor): EgressForm | undefined {
    askedAbout('formFor', { dataClass, processor });
    return this.allowances.find((a) => a.dataClass === dataClass && a.to.some((p) => p.equals(processor)))?.form;
  }

  /** Whether data of `dataClass`, in `form`, may go to `processor`. */
  public allows(dataClass: DataClass, processor: Processor, form: EgressForm): boolean {
    askedAbout('allows', { dataClass, processor, form });
    const allowed = this.formFor(dataClass, processor);
    return allowed === EgressForm.RAW || (allowed !== undefined && allowed === form);
  }

  /** Whether any data of `dataClass` may leave at all. */
  public mayLeave(dataClass: DataClass): boolean {
    askedAbout('mayLeave', { dataClass });
    return this.allowances.some((a) => a.dataClass === dataClass && a.to.length > 0);
  }

  private firstProblem(): string | undefined {
    const fail = (prop: string, value: unknown, why: string, fix: string) => invalidValue('BoundaryPolicy', prop, value, why, fix);
    if (this.aiActRoles.length === 0) {
      return fail('aiActRoles', [], 'the AI Act distinguishes providers and deployers, and the policy must say which the team is', 'declare aiActRoles: [AiActRole.DEPLOYER] (and/or AiActRole.PROVIDER)');
    }
    for (const allowance of this.allowances) {
      for (const processor of allowance.to) {
        if (!processor.legalSeat?.country || !processor.legalSeat.city) {
          return fail('egress', processor.name, 'a processor needs a legal seat (city and country) to be judged', "give it legalSeat: { city: 'Paris', country: 'FR' }");
        }
        if (!processor.inEu) {
          return fail('egress', `${processor.name} (${processor.legalSeat.city}, ${processor.legalSeat.country})`,
            `${allowance.dataClass.name} data may only go to processors with an EU legal seat`, 'choose an EU processor, or keep the data inside the control plane');
        }
        if (processor.hostnames.length === 0) {
          return fail('egress', processor.name, 'a processor needs the API hostnames workloads call, so egress can be limited to them', "list them, such as hostnames: ['api.mistral.ai']");
        }
      }
      if (allowance.dataClass === DataClass.SECRET) {
        return fail('egress', `secret → ${allowance.to.join(', ')} (${allowance.form})`, 'the policy contradicts itself: secrets, tokens and identity data never leave the control plane', 'remove the allowance for DataClass.SECRET');
      }
      if (allowance.dataClass === DataClass.SENSITIVE && allowance.form === EgressForm.RAW) {
        return fail('egress', `sensitive → ${allowance.to.join(', ')} (raw)`, 'the policy contradicts itself: sensitive data never leaves raw', 'pseudonymize it inside the control plane first (EgressForm.PSEUDONYMIZED), or keep it in');
      }
    }
    for (const a of this.allowances) {
      for (const b of this.allowances) {
        for (const processor of a.to) {
          if (a.dataClass === b.dataClass && b.to.some((p) => p.equals(processor)) && a.form !== b.form) {
            return fail('egress', `${a.dataClass.name} → ${processor.name}`, `the policy contradicts itself: it allows both ${a.form} and ${b.form}`, 'keep one allowance per class and processor');
          }
        }
      }
    }
    return undefined;
  }
}

/**
 * Refuses a processor the Processor constructor did not build, or an instance of a subclass (see isCheckedProcessor).
 * @internal
 */
export function requireCheckedProcessor(at: string, prop: string, p: Processor): Processor {
  if (!isCheckedProcessor(p)) {
    fail(at, prop, p, `it was not built by the Processor constructor, which checks it and makes it unchangeable${Object.getPrototypeOf(p) === Processor.prototype ? '' : ' (it is an instance of a subclass, whose members could change how the policy judges it)'}`,
      'build it with new Processor({ name, legalSeat, hostnames }) or Processor.mistralAi()');
  }
  return p;
}

/** Policies this module's constructor built and checked. */
const checkedPolicies = new WeakSet<object>();

/**
 * A policy the constructor built and checked, and exactly a `BoundaryPolicy`: a subclass could
 * redefine `processors`, `allows` or `formFor`, which the rules and the host allowlist read.
 * @internal
 */
export function requireCheckedPolicy(at: string, prop: string, value: unknown, fix: string): BoundaryPolicy {
  const policy = requireInstance(at, prop, value, BoundaryPolicy, fix, 'a BoundaryPolicy');
  if (!checkedPolicies.has(policy) || Object.getPrototypeOf(policy) !== BoundaryPolicy.prototype) {
    fail(at, prop, policy.constructor?.name ?? 'BoundaryPolicy', 'it was not built by the BoundaryPolicy constructor (a subclass or a copy), so its answers are not the checked policy\'s', fix);
  }
  return policy;
}

function checkAllowance(at: string, prop: string, value: unknown): EgressAllowance {
  const example = '{ dataClass: DataClass.PUBLIC, to: [Processor.mistralAi()], form: EgressForm.RAW }';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(at, prop, value, 'an allowance is an object', `write it as ${example}`);
  refuseUnknownProps(at, prop, value, propNames<EgressAllowance>({ dataClass: true, to: true, form: true }));
  const allowance = value as EgressAllowance;
  if (!(allowance.dataClass instanceof DataClass) || !DataClass.all().includes(allowance.dataClass)) {
    const shown = (allowance.dataClass as unknown as { name?: unknown })?.name ?? allowance.dataClass;
    fail(at, `${prop}.dataClass`, typeof shown === 'string' ? shown : allowance.dataClass, 'it is not a data class',
      `use ${DataClass.oneOf(DataClass.all())}`);
  }
  if (!Object.values(EgressForm).includes(allowance.form)) fail(at, `${prop}.form`, allowance.form, 'it is not an egress form', 'use EgressForm.RAW or EgressForm.PSEUDONYMIZED');
  const to = requireArray(at, `${prop}.to`, allowance.to, 'list the processors, such as [Processor.mistralAi()]', (p, pp) =>
    requireInstance(at, pp, p, Processor, "build it with new Processor({ name, legalSeat, hostnames }) or Processor.mistralAi()", 'a Processor'));
  // A Processor's constructor checks and freezes it; a copy, or a subclass that redefines how it is judged, was not checked.
  to.forEach((p, i) => requireCheckedProcessor(at, `${prop}.to[${i}]`, p));
  return { dataClass: allowance.dataClass, to, form: allowance.form };
}

/**
 * The arguments of the policy's questions, checked: from JavaScript, mayLeave('public') or allows('secret', …) (names, not
 * the objects) answered false, or undefined, without a word, whatever the policy said.
 */
function askedAbout(method: string, args: { dataClass?: unknown; processor?: unknown; form?: unknown }): void {
  const at = `BoundaryPolicy.${method}`;
  if ('dataClass' in args) requireInstance(at, 'dataClass', args.dataClass, DataClass, 'use DataClass.PUBLIC, PSEUDONYMIZED, SENSITIVE or SECRET (the object, not its name)', 'a DataClass');
  if ('processor' in args) requireInstance(at, 'processor', args.processor, Processor, 'pass the Processor the policy names, such as Processor.mistralAi()', 'a Processor');
  if ('form' in args) requireEnum(at, 'form', args.form, EgressForm, 'EgressForm');
}

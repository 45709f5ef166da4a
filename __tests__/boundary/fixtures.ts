import { App, Aspects, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import {
  AiActRole, BoundaryChecks, BoundaryPolicy, DataClass, EgressAllowlist, EgressForm, EgressHost, Environment, Machine, MachineProps,
  ObjectStorageBackend, Processor, ServerType, SshKey,
} from '../../lib';

export const mistral = Processor.mistralAi();
export const jina = Processor.jinaAi();
export const policy = new BoundaryPolicy({
  aiActRoles: [AiActRole.DEPLOYER],
  egress: [
    { dataClass: DataClass.PUBLIC, to: [mistral, jina], form: EgressForm.RAW },
    { dataClass: DataClass.PSEUDONYMIZED, to: [mistral], form: EgressForm.PSEUDONYMIZED },
  ],
});

/** The reason the tests give an extra host that receives only public data. */
export const PUBLIC_ONLY = 'package registry: the machines only download packages from it';

/** An extra egress host declared public-only, with a real reason. */
export function publicHost(hostname: string): EgressHost {
  return EgressHost.publicOnly(hostname, { reason: PUBLIC_ONLY });
}

/** A checked production stack with an EU backend; `compliant` machines get the egress allowlist. */
export function checkedStack(name = 'production', app: App = Testing.app(), withBackend = true, checkedBy: BoundaryPolicy = policy): TerraformStack {
  const stack = new TerraformStack(app, name);
  new HcloudProvider(stack, 'hcloud', {});
  if (withBackend) new ObjectStorageBackend(stack, { bucket: 'acme-state' });
  Aspects.of(stack).add(new BoundaryChecks({ policy: checkedBy }));
  return stack;
}

export function machine(stack: TerraformStack, id = 'App', props: Partial<MachineProps> = {}, restrictEgress = true): Machine {
  const m = new Machine(stack, id, {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33,
    sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'], dataClasses: [DataClass.SENSITIVE], ...props,
  });
  if (restrictEgress) EgressAllowlist.apply(m, { policy });
  return m;
}

/** Synthesizes with validations; returns the error text, or '' when synth passes. */
export function synthErrors(stack: TerraformStack): string {
  try {
    Testing.synth(stack, true);
    return '';
  } catch (e) {
    return String((e as Error).message);
  }
}

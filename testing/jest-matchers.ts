import { PlannedChanges } from './harness/planned-changes';
import { describeDiagnostics, TerraformRun } from './harness/terraform-cli';
import { PlanOutcome, StandInWorkspace } from './harness/workspace';
import { HetznerStandIn, StackSource } from './stand-in';

/* eslint-disable @typescript-eslint/no-namespace */
declare global {
  namespace jest {
    interface Matchers<R> {
      /** `terraform validate` passes for the stack, with the stand-in serving hcloud's schema. */
      toBeValidWithStandIn(): R;
      /** `terraform plan` succeeds for the stack against the stand-in. */
      toPlanWithStandIn(): R;
      /**
       * Planning the workspace's current configuration over its deployed state replaces no
       * resource of this type (or at this address), such as 'hcloud_server'.
       */
      toPlanWithoutReplacing(typeOrAddress: string): R;
      /**
       * Terraform refuses to destroy the deployed stack (lifecycle.prevent_destroy), for a
       * resource of this type or at this address if given. A stack is deployed first.
       */
      toRefuseToDestroy(typeOrAddress?: string): R;
    }
  }
}

/**
 * What a stand-in matcher accepts as `expect(...)`'s argument: a stack, which the shared stand-in
 * ({@link HetznerStandIn.shared}) puts in a new workspace of its own, or a workspace the test set up,
 * for checking a change against what that workspace has deployed.
 */
export type Received = StackSource | StandInWorkspace;

/** A matcher's verdict, as `expect.extend` wants it (jest's `CustomMatcherResult`). */
export interface MatcherResult {
  /** Whether the expectation holds; `.not` inverts it. */
  pass: boolean;
  /**
   * The failure message, built only when jest reports a failure (with `.not`, a match): it quotes what
   * Terraform said or which resources the plan touches.
   */
  message: () => string;
}

function workspaceOf(received: Received): StandInWorkspace {
  return received instanceof StandInWorkspace ? received : HetznerStandIn.shared().workspace(received);
}

function failureText(run: TerraformRun): string {
  return `terraform ${run.args[0] ?? ''} said:\n${describeDiagnostics(run)}`;
}

function matches(typeOrAddress: string, address: string, type: string): boolean {
  return type === typeOrAddress || address === typeOrAddress || address.endsWith(`.${typeOrAddress}`);
}

/** The matchers, for `expect.extend`. Each runs the real Terraform CLI against the stand-in. */
export const standInMatchers = {
  /** `expect(stack).toBeValidWithStandIn()`: runs `terraform validate` with the stand-in serving hcloud's schema. */
  toBeValidWithStandIn(received: Received): MatcherResult {
    const ws = workspaceOf(received);
    const run = ws.validate();
    const pass = run.ok && !run.diagnostics.some((d) => d.severity === 'error');
    return {
      pass,
      message: () => (pass
        ? `expected the stack not to be valid, but terraform validate passed (${ws.dir})`
        : `expected the stack to be valid, but ${failureText(run)}\n(working directory: ${ws.dir})`),
    };
  },

  /** `expect(stack).toPlanWithStandIn()`: runs `terraform plan` against the stand-in's simulated project. */
  toPlanWithStandIn(received: Received): MatcherResult {
    const ws = workspaceOf(received);
    const { run, changes } = ws.plan();
    const pass = run.ok && changes !== undefined;
    return {
      pass,
      message: () => (pass
        ? `expected planning to fail, but it planned ${JSON.stringify(changes!.summary)} (${ws.dir})`
        : `expected the stack to plan, but ${failureText(run)}\n(working directory: ${ws.dir})`),
    };
  },

  /**
   * `expect(workspace).toPlanWithoutReplacing('hcloud_server')`: no resource of that type or at that address
   * is destroyed and created again. A workspace is planned now; a plan already made (`workspace.plan()` or
   * its `changes`) is judged as it is.
   */
  toPlanWithoutReplacing(received: StandInWorkspace | PlanOutcome | PlannedChanges, typeOrAddress: string): MatcherResult {
    let changes: PlannedChanges | undefined;
    let run: TerraformRun | undefined;
    if (received instanceof PlannedChanges) changes = received;
    else if (received instanceof StandInWorkspace) ({ run, changes } = received.plan());
    else ({ run, changes } = received);
    if (!changes) {
      return { pass: false, message: () => `expected a plan without replacing ${typeOrAddress}, but planning failed: ${run ? failureText(run) : 'no plan'}` };
    }
    const replaced = changes.replacements.filter((c) => matches(typeOrAddress, c.address, c.type));
    const pass = replaced.length === 0;
    return {
      pass,
      message: () => (pass
        ? `expected the plan to replace ${typeOrAddress}, but it does not (actions: ${changes!.of(typeOrAddress).map((c) => `${c.address} ${c.actions.join('+')}`).join(', ') || 'none'})`
        : `expected the plan not to replace ${typeOrAddress}, but it replaces ${replaced.map((c) => `${c.address} (forced by ${c.replacePaths.map((p) => p.join('.')).join(', ') || 'the configuration'})`).join(', ')}`),
    };
  },

  /**
   * `expect(stack).toRefuseToDestroy('hcloud_volume')`: a destroy plan fails on `prevent_destroy`, for that
   * resource if named. A stack is deployed first; a workspace is taken as deployed already.
   */
  toRefuseToDestroy(received: Received, typeOrAddress?: string): MatcherResult {
    const ws = workspaceOf(received);
    if (!(received instanceof StandInWorkspace)) {
      const applied = ws.apply();
      if (!applied.ok) return { pass: false, message: () => `could not deploy the stack before destroying it: ${failureText(applied)}` };
    }
    const { run } = ws.plan({ destroy: true });
    const refusals = run.diagnostics.filter((d) => d.severity === 'error' && d.summary === 'Instance cannot be destroyed');
    const relevant = typeOrAddress === undefined
      ? refusals
      : refusals.filter((d) => (d.address && matches(typeOrAddress, d.address, d.address.split('.').slice(-2)[0])) || d.detail.includes(typeOrAddress));
    const pass = !run.ok && relevant.length > 0;
    return {
      pass,
      message: () => (pass
        ? `expected destroying to be allowed, but Terraform refused: ${relevant.map((d) => d.address ?? d.detail).join(', ')}`
        : `expected Terraform to refuse destroying${typeOrAddress ? ` ${typeOrAddress}` : ''} (prevent_destroy), but ${run.ok ? 'the destroy plan succeeded' : failureText(run)}`),
    };
  },
};

/** Registers the matchers with jest; call it once in a setup file or at the top of a test file. */
export function setupStandInMatchers(): void {
  expect.extend(standInMatchers as unknown as jest.ExpectExtendMap);
}

import { IConstruct } from 'constructs';
import { Aspects } from 'cdktf';
import { Server } from '../generated/providers/hcloud/server';
import { Volume } from '../generated/providers/hcloud/volume';
import { Component, DataVolume, IMachine, Machine, Phase, PostgresDatabase } from '../lib';
import { invalidValue } from '../lib/core/validation-message';

/** What an environment stack builds by its phase, against which everything else in it is judged. */
export interface PhaseMachines {
  /** The environment's app machine. */
  readonly app: IMachine;
  /** Phase 3 production's monitoring machine, when the stack built one. */
  readonly monitoringMachine?: IMachine;
  /** The product's phase. */
  readonly phase: Phase;
}

/**
 * Declares the roadmap components a stack builds, however it builds them: a volume (a `DataVolume`, or a raw
 * `hcloud_volume`) is the data volume, and a PostgreSQL on a machine other than the app machine is the separate
 * database server. Built directly, each passed the phase unseen while the postponed list called it postponed.
 */
export function declareBuiltComponents(stack: IConstruct, machines: PhaseMachines): void {
  Aspects.of(stack).add({
    visit: (node) => {
      if (node instanceof DataVolume) Component.declare(node, Component.DATA_VOLUME);
      else if (node instanceof Volume && !node.node.scopes.some((s) => s instanceof DataVolume)) Component.declare(node, Component.DATA_VOLUME);
      if (node instanceof PostgresDatabase && node.machine !== machines.app) Component.declare(node.machine, Component.SPLIT_APP_DB);
    },
  });
}

/**
 * Every server of the stack beyond the machines its phase builds, that declares no roadmap component. The model
 * gives an environment one app machine (and Phase 3 production a monitoring machine); a second one is a separate
 * database, monitoring, embeddings or GPU machine, each a component some phase postpones. Undeclared, the phase
 * could not judge it and the postponed list still called it postponed.
 */
export function undeclaredServers(stack: IConstruct, machines: PhaseMachines): string[] {
  const built = new Set<Server>([machines.app.server, ...(machines.monitoringMachine ? [machines.monitoringMachine.server] : [])]);
  const servers = stack.node.findAll().filter((c): c is Server => c instanceof Server && !built.has(c));
  return servers.flatMap((server) => {
    const owner: IConstruct = [...server.node.scopes].reverse().find((s) => s instanceof Machine) ?? server;
    if (Component.declaredIn(owner).length > 0) return [];
    const name = owner instanceof Machine ? owner.serverName : server.node.id;
    const own = machines.monitoringMachine ? 'its app machine and its monitoring machine' : 'one app machine';
    return [invalidValue(owner, 'server', name, `a server beyond the ${own} ${machines.phase} builds here declares no roadmap component: a separate database, `
      + `monitoring, embeddings or GPU machine is one, and ${machines.phase} judges it only when declared (the postponed list would still call it postponed)`,
    'declare what it is, Component.declare(machine, Component.SPLIT_APP_DB) (or MONITORING_MACHINE, EMBEDDINGS_SERVER, GPU_BOX, REDIS, KUBERNETES), '
      + `and adopt it early with a reason if ${machines.phase} postpones it; or remove it, and rescale the app machine instead`)];
  });
}

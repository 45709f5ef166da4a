import { IConstruct } from 'constructs';
import { Annotations, Aspects } from 'cdktf';
import { Server } from '../generated/providers/hcloud/server';
import { Volume } from '../generated/providers/hcloud/volume';
import { Component, DataVolume, IMachine, Machine, Phase, PostgresDatabase } from '../lib';

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
 * Warns about every server of the stack beyond the machines its phase builds that declares no roadmap component. The
 * model gives an environment one app machine (and Phase 3 production a monitoring machine); a second one may be a
 * separate database, monitoring, embeddings or GPU machine, each a component some phase postpones, which the phase
 * judges only when declared (the postponed list would still call it postponed). A warning, not an error: a server may
 * be none of them (a worker, a bastion), and declaring it as one would make the postponed list wrong the other way.
 * Called at validation, which a second synth repeats: each server is warned about once.
 */
export function warnAboutUndeclaredServers(stack: IConstruct, machines: PhaseMachines): void {
  const built = new Set<Server>([machines.app.server, ...(machines.monitoringMachine ? [machines.monitoringMachine.server] : [])]);
  const servers = stack.node.findAll().filter((c): c is Server => c instanceof Server && !built.has(c));
  for (const server of servers) {
    const owner: IConstruct = [...server.node.scopes].reverse().find((s) => s instanceof Machine) ?? server;
    if (Component.declaredIn(owner).length > 0 || warned.has(owner)) continue;
    warned.add(owner);
    const name = owner instanceof Machine ? owner.serverName : server.node.id;
    const own = machines.monitoringMachine ? 'its app machine and its monitoring machine' : 'one app machine';
    Annotations.of(owner).addWarning(`Roadmap-UndeclaredServer: ${owner.node.path}.server '${name}' is a server beyond the ${own} ${machines.phase} builds here, and declares `
      + `no roadmap component: a separate database, monitoring, embeddings or GPU machine is one, and ${machines.phase} judges it only when declared (the `
      + 'postponed list would still call it postponed). Fix: if it is one, declare it, Component.declare(machine, Component.SPLIT_APP_DB) (or MONITORING_MACHINE, '
      + `EMBEDDINGS_SERVER, GPU_BOX, REDIS, KUBERNETES), and adopt it early with a reason if ${machines.phase} postpones it; if it is a larger app, rescale the app machine instead.`);
  }
}

const warned = new WeakSet<IConstruct>();

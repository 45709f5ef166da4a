import { AgentMachine, AgentRun } from '../../setup/agent-machine';
import { synthesizedBundle } from '../../../testing/bundle';
import { renderTemplate, variableValues } from './machine-files';
import { BUILT_FOR_SERVER_ID } from './machine-root';

/** What the deploy delivers to `server`: the bundle payload and its version, from the synthesized stack. */
function deliveryOf(json: any, server: string): { payload: string; version: string; templates: Map<string, string> } {
  for (const resource of Object.values<any>(json.resource.terraform_data)) {
    const file = (resource.provisioner ?? []).map((p: any) => p.file).find((f: any) => f && String(f.destination).endsWith('/bundle.gz.b64'));
    if (!file) continue;
    let bundle;
    try {
      bundle = synthesizedBundle({ resource: { terraform_data: { r: resource } } }, server);
    } catch {
      continue; // another machine's rollout
    }
    const templates = new Map([...bundle.files.values()].filter((f) => f.template !== undefined).map((f) => [f.path, f.template!] as const));
    return { payload: String(file.content), version: bundle.version, templates };
  }
  throw new Error(`no rollout of ${server}`);
}

/**
 * A machine that takes a synthesized stack's bundle as the rollout's provisioners deliver it (the compressed bundle
 * and the inputs Terraform renders), with the real rollout agent; its file system is a directory and its systemctl
 * records its calls (AgentMachine).
 */
export class FreshMachine extends AgentMachine {
  constructor(private readonly server = 'acme-production-app') {
    super('monitoring-machine-');
  }

  /** One deploy: the provisioners' files, then `sovereign-rollout apply`, with the secrets as Terraform renders them. */
  public deploy(json: any, secrets: Record<string, string>): AgentRun {
    const { payload, version, templates } = deliveryOf(json, this.server);
    const values = new Proxy(variableValues(secrets), {
      // A machine's private address (an unpinned one is known at deploy), as MachineRoot renders it.
      get: (target, key: string) => target[key] ?? (/\.network\)\.0\.ip$/.test(key) ? '10.0.1.2' : undefined)
        ?? (/^hcloud_server\.[\w-]+\.id$/.test(key) ? BUILT_FOR_SERVER_ID : undefined),
    });
    const inputs = Object.fromEntries([...templates].map(([p, template]) => [p, renderTemplate(template, values)]));
    return this.deliver(payload, version, inputs);
  }
}

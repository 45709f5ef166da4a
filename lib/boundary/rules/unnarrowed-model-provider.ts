import { Token } from 'cdktf';
import { DataClass } from '../../core/data-class';
import { EgressAllowlist } from '../egress-allowlist';
import { modelApiProviderOf, modelProviderOf, namesModelHost } from '../model-apis';
import { allowlistFor } from '../private/egress-declarations';
import { namesOnlyDeclaredHosts } from '../private/declared-host-parts';
import type { IMachine } from '../../hetzner/machine';
import { MachineBundle } from '../../hetzner/machine-bundle';
import { heldByServer } from './server-holdings';
import { describeHeld, Finding, RuleContext } from './rule';

/** Anything written like a DNS name: a model API's host inside a URL, an environment line or a YAML value. */
const HOST_LIKE = /(?<![A-Za-z0-9.-])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+(?![A-Za-z0-9-])/g;

/**
 * Whether the host found at `index` of `text` is the domain of an e-mail address (`press@anthropic.com`), not a URL's
 * host after its user information (`https://user:key@api.openai.com`).
 */
function afterMailAt(text: string, index: number): boolean {
  if (text[index - 1] !== '@') return false;
  const word = text.slice(0, index - 1).split(/[\s"'<>(),;=]/).pop() ?? '';
  return !word.includes('://');
}

/**
 * A machine whose egress nothing narrows (it declares no sensitive data, so it has no host allowlist) while what synth
 * sees of it writes out a model provider's API host the policy does not name as a processor: its user data, its bundle's
 * files (an environment file, a proxy's configuration), a destination a construct declared for it. A host an SDK calls by
 * default, never written, is beyond it. That is how a
 * self-hosted proxy declared public carries, unjudged, what the other machines send it over the private network (open
 * between them) to a US provider. Synth cannot see what the machine will send: only that it is set up to reach the
 * provider, which no policy allows (a processor needs an EU seat). A probe sends nothing and is not counted.
 */
export function unnarrowedModelProviderFindings({ resources, policy, flows, constructAt }: RuleContext): Finding[] {
  const named = [...policy.processors, ...flows.map((f) => f.processor)].flatMap((p) => p.hostnames);
  // A provider the policy names by one host (api.mistral.ai) is judged by the policy wherever else it is named
  // (codestral.mistral.ai); a region's or customer's endpoint only where that endpoint is named.
  const allowed = (host: string) => named.some((n) => namesModelHost(n, host));
  return resources.filter((r) => r.type === 'hcloud_server').flatMap((server): Finding[] => {
    const construct = constructAt?.(server.path);
    if (construct && allowlistFor(construct)) return [];
    const held = heldByServer(server, resources, constructAt);
    // Sensitive or secret: Boundary-RestrictedEgress refuses its open egress already.
    if (held.classes.some((c) => c.strictness >= DataClass.SENSITIVE.strictness)) return [];
    // The Machine whose own server this is (its bundle is what runs there); a raw server has only its user data.
    const owner = construct?.node.scope as (IMachine & { bundle?: unknown }) | undefined;
    const machine = owner && owner.server === construct && owner.bundle instanceof MachineBundle ? owner as IMachine & { bundle: MachineBundle } : undefined;
    // Text is matched on API hosts only (a link to a provider's docs is no proxy in front of it); a declared destination
    // is a host the machine connects to, matched on every host of the provider.
    const sources: Array<{ where: string; text: string; providerOf: (host: string) => string | undefined }> = [
      ...(typeof server.body.user_data === 'string' ? [{ where: 'its user data', text: server.body.user_data, providerOf: modelApiProviderOf }] : []),
      // Not a part whose every host the machine declared as a destination (the monitoring's probed URLs): those are judged below.
      ...(machine ? [...machine.bundle.files().values()].filter((f) => !namesOnlyDeclaredHosts(machine, f.part))
        .map((f) => ({ where: `its bundle file ${f.file.path}`, text: f.content, providerOf: modelApiProviderOf })) : []),
      ...(machine ? EgressAllowlist.requiredDestinations(machine).filter((d) => !d.probe && !Token.isUnresolved(d.hostname))
        .map((d) => ({ where: `its declared destination, the ${d.purpose}`, text: d.hostname, providerOf: modelProviderOf })) : []),
    ];
    const seen = new Set<string>();
    return sources.flatMap(({ where, text, providerOf }) => [...text.matchAll(HOST_LIKE)].flatMap((found): Finding[] => {
      const host = found[0].toLowerCase();
      const provider = providerOf(host);
      if (!provider || afterMailAt(text, found.index!) || allowed(host) || seen.has(host)) return [];
      seen.add(host);
      const at = machine?.node.path ?? server.path;
      return [{
        path: server.path,
        message: `${at}: '${host}' (in ${where}) is not allowed: it is the API of ${provider}, a model provider the policy does not name as a processor, `
          + `and the machine is declared to hold only ${describeHeld(held)} data, so no host allowlist narrows its egress: a proxy or gateway there `
          + 'carries to the provider whatever other machines send it over the private network, which is open between them, and synth judges none of it. '
          + `Fix: send model requests to a processor the policy names (an EU seat), declared with DataFlow.declare; if the text only mentions the host `
          + `(a comment, a block list), accept it on the server alone, which keeps the machine's data flows judged: `
          + `BoundarySuppressions.add(${machine ? 'machine.server' : 'server'}, [{ id: 'Boundary-ProcessorAllowed', reason: '…' }])`,
      }];
    }));
  });
}

import { quote } from '../../core/validation-message';
import { valuesAt } from '../private/provider-schema';
import { BoundaryRule, Finding } from './rule';
import { coversPort, inboundRules, isFromAnywhere } from './firewall-rules';

/** Ports of databases and data stores that must never face the internet. */
export const DATA_STORE_PORTS: Record<number, string> = {
  5432: 'PostgreSQL', 3306: 'MySQL/MariaDB', 6379: 'Redis', 27017: 'MongoDB', 9200: 'Elasticsearch/OpenSearch',
  5984: 'CouchDB', 9042: 'Cassandra', 8086: 'InfluxDB', 11211: 'memcached', 6333: 'Qdrant', 19530: 'Milvus', 8123: 'ClickHouse HTTP', 9000: 'ClickHouse native/MinIO',
};

export const noPublicDataStore: BoundaryRule = {
  id: 'Boundary-NoPublicDataStore',
  level: 'error',
  cause: 'A firewall opens a database or data-store port (alone or in a range) to the whole internet, however the blocks are written, or a Storage Box is reachable from outside Hetzner.',
  explanation: 'Databases and data stores are reached from inside the control plane only: the app on the same machine or over the private network.',
  enforcedAt: 'synth; the Hetzner Cloud Firewall then enforces the absence of the rule (inbound is deny-by-default)',
  evaluate: ({ resources }) => {
    const findings: Finding[] = [];
    for (const firewall of resources.filter((r) => r.type === 'hcloud_firewall')) {
      for (const rule of inboundRules(firewall).filter(isFromAnywhere)) {
        for (const [port, store] of Object.entries(DATA_STORE_PORTS)) {
          if (coversPort(rule, Number(port))) {
            findings.push({
              path: firewall.path,
              message: `${firewall.path}.rule: '${rule.protocol} ${rule.port ?? 'any'} from ${rule.sourceIps.join(', ')}' is not allowed: it exposes ${store} (port ${port}) to the internet. Fix: reach the data store from the app machine or over the private network, and remove the rule`,
            });
            break;
          }
        }
      }
    }
    for (const box of resources.filter((r) => r.type === 'hcloud_storage_box' || r.type === 'hcloud_storage_box_subaccount')) {
      // Terraform converts "true" and expressions to a boolean at plan, so only an absent or literal false is known to be closed.
      const settings = box.body.access_settings;
      // access_settings written as one expression may hold reachable_externally = true.
      for (const value of typeof settings === 'string' ? [settings] : valuesAt(box.body, ['access_settings', 'reachable_externally'])) {
        if (value === false || value === null) continue;
        findings.push({
          path: box.path,
          message: `${box.path}.access_settings.reachable_externally: ${quote(value)} is not allowed: backups would be reachable from outside Hetzner${value === true ? '' : ' (Terraform may read it as true, and synth cannot know it is not)'}. Fix: leave it out or write the literal false; Hetzner servers still reach the box`,
        });
      }
    }
    return findings;
  },
};

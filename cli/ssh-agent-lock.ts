import { randomBytes } from 'crypto';
import * as net from 'net';

/** The SSH agent protocol's messages used here (draft-miller-ssh-agent, section 3.7 and 5.1). */
const SSH_AGENT_FAILURE = 5;
const SSH_AGENT_SUCCESS = 6;
const SSH_AGENTC_REQUEST_IDENTITIES = 11;
const SSH_AGENT_IDENTITIES_ANSWER = 12;
const SSH_AGENTC_LOCK = 22;
const SSH_AGENTC_UNLOCK = 23;

/** How long an agent has to answer: a forwarded agent on a dead connection never does. */
export const AGENT_ANSWER_MS = 10_000;

/** One request to the agent at `socket`, its answer's body (type first); rejects on no answer within AGENT_ANSWER_MS. */
function agentRequest(socket: string, type: number, payload: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const connection = net.createConnection(socket);
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => connection.destroy(new Error(`no answer within ${AGENT_ANSWER_MS / 1000} s`)), AGENT_ANSWER_MS);
    connection.on('connect', () => {
      const message = Buffer.alloc(5);
      message.writeUInt32BE(1 + payload.length, 0);
      message[4] = type;
      connection.write(Buffer.concat([message, payload]));
    });
    connection.on('data', (data) => {
      received = Buffer.concat([received, data]);
      if (received.length >= 4 && received.length >= 4 + received.readUInt32BE(0)) {
        clearTimeout(timer);
        connection.end();
        resolve(received.subarray(4, 4 + received.readUInt32BE(0)));
      }
    });
    connection.on('error', (e) => { clearTimeout(timer); reject(e); });
    connection.on('close', () => { clearTimeout(timer); reject(new Error('the agent closed the connection without an answer')); });
  });
}

/** An SSH string: its length, then its bytes. */
function sshString(text: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(text.length, 0);
  return Buffer.concat([length, text]);
}

/** How many keys the agent at `socket` lists (a locked one lists none). */
async function keysListed(socket: string): Promise<number> {
  const answer = await agentRequest(socket, SSH_AGENTC_REQUEST_IDENTITIES);
  if (answer[0] !== SSH_AGENT_IDENTITIES_ANSWER || answer.length < 5) throw new Error(`an answer of type ${answer[0]} to a request for its keys`);
  return answer.readUInt32BE(1);
}

/** A locked agent: `unlock` gives it its keys back (false, with why, where it refuses). */
export interface LockedAgent {
  unlock(): Promise<{ unlocked: true } | { unlocked: false; why: string }>;
}

/**
 * Locks the SSH agent at `socket` (SSH_AGENTC_LOCK) with a random passphrase held only in this process's memory, and
 * checks the lock took: a locked agent lists no keys. A process of the same account that finds the socket can then
 * sign nothing with its keys until `unlock`. Why not, where the agent refuses (some forwarded agents do), does not
 * answer, or still lists keys (it is then unlocked again).
 */
export async function lockAgent(socket: string): Promise<LockedAgent | { why: string }> {
  // Text, not raw bytes: OpenSSH's agent reads the passphrase as a C string and drops the connection, unanswered, on a
  // NUL inside it, which 32 random bytes hold one time in eight.
  const passphrase = sshString(Buffer.from(randomBytes(32).toString('hex')));
  const unlock = async (): Promise<{ unlocked: true } | { unlocked: false; why: string }> => {
    try {
      const answer = await agentRequest(socket, SSH_AGENTC_UNLOCK, passphrase);
      return answer[0] === SSH_AGENT_SUCCESS ? { unlocked: true } : { unlocked: false, why: `the agent answered ${answer[0] === SSH_AGENT_FAILURE ? 'failure' : `type ${answer[0]}`}` };
    } catch (e) {
      return { unlocked: false, why: (e as Error).message };
    }
  };
  try {
    const answer = await agentRequest(socket, SSH_AGENTC_LOCK, passphrase);
    if (answer[0] !== SSH_AGENT_SUCCESS) return { why: `the agent refused to be locked (${answer[0] === SSH_AGENT_FAILURE ? 'it answered failure: already locked, by another release or `ssh-add -x`, or a forwarded agent that does not lock' : `an answer of type ${answer[0]}`})` };
  } catch (e) {
    // No answer is no proof the lock did not take (a slow forwarded agent, a dropped connection): unlocked, to be sure;
    // an agent never locked answers failure to that, harmlessly.
    const unlocked = await unlock();
    const left = !unlocked.unlocked && !unlocked.why.startsWith('the agent answered')
      ? `; it may be left locked (unlocking it failed too: ${unlocked.why}): restart the agent and \`ssh-add\` its keys again` : '';
    return { why: `the agent could not be locked (${(e as Error).message})${left}` };
  }
  let listed: number | string;
  try {
    listed = await keysListed(socket);
  } catch (e) {
    listed = (e as Error).message;
  }
  if (listed === 0) return { unlock };
  await unlock();
  return { why: `the agent, locked, still ${typeof listed === 'number' ? `lists ${listed} key${listed === 1 ? '' : 's'}` : `could not be asked for its keys (${listed})`}` };
}

import { Duration } from '../../lib';
import { freePort, waitForPort } from '../../testing/harness/ports';
import { unlessTimedOut, waitFor, WaitTimedOut } from '../../testing/harness/wait';

describe('waitFor', () => {
  afterEach(() => jest.restoreAllMocks());

  test("resolves with the condition's first truthy value, looking again until then", async () => {
    let looks = 0;
    const found = await waitFor(() => (++looks < 3 ? undefined : `look ${looks}`), { timeout: Duration.seconds(30), interval: Duration.millis(1), what: 'the third look' });
    expect({ found, looks }).toEqual({ found: 'look 3', looks: 3 });
  });

  test('gives up on the clock, not after a count of looks, naming what it waited for', async () => {
    // Each reading of the clock is 2 s later: a look that slow leaves room for three in 5 s, whatever the interval.
    let now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => (now += 2000));
    let looks = 0;
    const waited = waitFor(() => { looks++; return false; }, { timeout: Duration.seconds(5), interval: Duration.millis(1), what: 'a condition that never holds' });
    await expect(waited).rejects.toThrow(new WaitTimedOut('timed out after 5000 ms waiting for a condition that never holds'));
    await expect(waited).rejects.toBeInstanceOf(WaitTimedOut);
    expect(looks).toBe(3);
  });

  test('with no time left makes one look, even when the look took no time on the clock', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    let looks = 0;
    await expect(waitFor(() => { looks++; return false; }, { timeout: Duration.millis(0), what: 'nothing' })).rejects.toThrow('timed out after 0 ms waiting for nothing');
    expect(looks).toBe(1);
  });

  test("ends with the condition's own error, which unlessTimedOut passes on while it swallows a timeout", async () => {
    const broken = waitFor(() => { throw new Error('the look itself failed'); }, { timeout: Duration.seconds(30), what: 'a broken look' });
    await expect(broken.catch(unlessTimedOut)).rejects.toThrow('the look itself failed');
    const timedOut = waitFor(() => false, { timeout: Duration.millis(0), what: 'nothing' });
    await expect(timedOut.catch(unlessTimedOut)).resolves.toBeUndefined();
  });
});

describe('waitForPort', () => {
  afterEach(() => jest.restoreAllMocks());

  test('with no time left makes no further try, even when a refused try took no time on the clock', async () => {
    // A refused connect on loopback often returns within the millisecond it started: the clock stands still here.
    jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    const port = await freePort();
    let tries = 0;
    const tooMany = () => (++tries > 1 ? `tried ${tries} times with no time left` : undefined);
    await expect(waitForPort(port, Duration.millis(0), tooMany)).rejects.toThrow(`timed out after 0 ms waiting for something to listen on 127.0.0.1:${port}`);
    expect(tries).toBe(1);
  });

  test('stops at once with the reason a server will never listen', async () => {
    const port = await freePort();
    await expect(waitForPort(port, Duration.seconds(30), () => 'the server exited')).rejects.toThrow(/^the server exited$/);
  });
});

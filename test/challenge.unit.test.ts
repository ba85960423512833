/**
 * The challenge store on its own (lib/challenge.ts): single-use claims, and the session handling the
 * strategy relies on — issue regenerates and saves, take removes the challenge before checking it.
 */
import { strict as assert } from 'node:assert';
import { ChallengeStore, MemoryChallengeClaims, type ChallengeClaims, type ChallengeStoreOptions } from '../lib/challenge';
import { RadiusSessionError } from '../lib/errors';
import { sleep } from './support/time';

interface FakeReq {
  session?: Record<string, unknown>;
}

/** A session like express-session's, recording save() and regenerate() calls. */
function withSession(req: FakeReq, data: Record<string, unknown>, calls: string[]): Record<string, unknown> {
  const session: Record<string, unknown> = { ...data };
  Object.defineProperties(session, {
    save: { value: (done: () => void) => (calls.push('save'), done()), enumerable: false },
    regenerate: {
      value: (done: () => void) => {
        calls.push('regenerate');
        req.session = withSession(req, {}, calls);
        done();
      },
      enumerable: false,
    },
  });
  req.session = session;
  return session;
}

function store(extra: Partial<ChallengeStoreOptions> = {}): ChallengeStore {
  return new ChallengeStore({
    sessionKey: 'radius',
    strategy: 'radius',
    timeoutMs: 60_000,
    maxRounds: 2,
    claims: new MemoryChallengeClaims(),
    serverAddress: (name) => (name === 'a' ? '192.0.2.1' : undefined),
    ...extra,
  });
}

const toIssue = { server: 'a', username: 'carol', state: Buffer.from([0, 255, 128]), prompt: 'Code?', echo: false, previousRound: 0 };

describe('MemoryChallengeClaims', function () {
  it('answers true to the first claim of an id and false to every later one', async function () {
    const claims = new MemoryChallengeClaims();
    assert.equal(await claims.claim('x', 60_000), true);
    assert.equal(await claims.claim('x', 60_000), false);
    assert.equal(await claims.claim('y', 60_000), true);
  });

  it('forgets an id once its time to live has passed', async function () {
    const claims = new MemoryChallengeClaims();
    assert.equal(await claims.claim('x', 1), true);
    await sleep(20);
    assert.equal(await claims.claim('x', 60_000), true);
  });
});

describe('ChallengeStore', function () {
  it('issues into a regenerated session, keeping its other data, and saves it', async function () {
    const calls: string[] = [];
    const req: FakeReq = {};
    const before = withSession(req, { returnTo: '/account' }, calls);
    const outcome = await store().issue(req, toIssue);
    assert.ok(outcome.issued);
    assert.notEqual(req.session, before, 'the session was not regenerated');
    assert.deepEqual(calls, ['regenerate', 'save']);
    assert.equal(req.session?.returnTo, '/account');
    const kept = req.session?.radius as Record<string, unknown>;
    assert.deepEqual(
      { ...kept, id: typeof kept.id, expiresAt: typeof kept.expiresAt },
      { id: 'string', state: 'AP+A', server: 'a', address: '192.0.2.1', strategy: 'radius', username: 'carol', prompt: 'Code?', echo: false, round: 1, expiresAt: 'number' },
    );
  });

  it('refuses a round past maxRounds, dropping the pending challenge', async function () {
    const req: FakeReq = {};
    withSession(req, { radius: { any: 'thing' } }, []);
    assert.deepEqual(await store().issue(req, { ...toIssue, previousRound: 2 }), { issued: false, reason: 'too-many-rounds' });
    assert.equal(req.session?.radius, undefined);
  });

  it('takes a challenge once: removed from the session before it is checked, claimed, then refused', async function () {
    const s = store();
    const req: FakeReq = {};
    withSession(req, {}, []);
    await s.issue(req, toIssue);
    const copy = { ...req.session }; // a concurrent request's own copy of the same session
    const first = await s.take(req);
    assert.ok(first.taken);
    assert.equal(first.challenge.username, 'carol');
    assert.equal(req.session?.radius, undefined);
    assert.deepEqual(await s.take({ session: copy }), { taken: false, reason: 'claimed' });
    assert.equal(copy.radius, undefined);
  });

  for (const [what, change, reason] of [
    ['expired', { expiresAt: Date.now() - 1 }, 'expired'],
    ['issued by another strategy', { strategy: 'other' }, 'other-strategy'],
    ['from a server now elsewhere', { address: '198.51.100.1' }, 'other-server'],
    ['from a server no longer configured', { server: 'gone' }, 'other-server'],
    ['malformed', { round: 'one' }, 'none'],
  ] as const) {
    it(`refuses a challenge ${what} (${reason}), removing it and claiming nothing`, async function () {
      const claimed: string[] = [];
      const claims: ChallengeClaims = { claim: (id) => (claimed.push(id), Promise.resolve(true)) };
      const s = store({ claims });
      const req: FakeReq = {};
      withSession(req, {}, []);
      await s.issue(req, toIssue);
      Object.assign(req.session!.radius as object, change);
      assert.deepEqual(await s.take(req), { taken: false, reason });
      assert.equal(req.session?.radius, undefined);
      assert.deepEqual(claimed, []);
    });
  }

  it('throws RadiusSessionError without a session, and passes a failing claim on', async function () {
    await assert.rejects(store().issue({}, toIssue), RadiusSessionError);
    await assert.rejects(store().take({}), RadiusSessionError);
    const s = store({ claims: { claim: () => Promise.reject(new Error('Redis is down')) } });
    const req: FakeReq = {};
    withSession(req, {}, []);
    await s.issue(req, toIssue);
    await assert.rejects(s.take(req), /Redis is down/);
  });
});

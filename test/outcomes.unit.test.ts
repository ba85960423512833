/**
 * The README's "Outcomes" table as a specification, one row per scenario: RadiusStrategy driven with a
 * fake request and a fake client (no HTTP, no sockets), reading which Passport action it called
 * (passport-local's test style). The wire is proven by the FreeRADIUS tests; this proves the mapping.
 */
import { strict as assert } from 'node:assert';
import type { Request } from 'express';
import {
  RadiusStrategy,
  RadiusUnavailableError,
  type AuthResult,
  type AuthenticateRequest,
  type ChallengeResponseRequest,
  type RadiusStrategyClient,
  type RadiusStrategyOwnOptions,
  type VerifyFunction,
} from '../lib';

/* ---------------------------------------------------------------- fixtures */

const SERVERS = [
  { name: 'a', address: '192.0.2.1' },
  { name: 'b', address: '192.0.2.2' },
] as const;

const base = { attributes: {}, rawAttributes: [], replyMessage: undefined, rttMs: 1 };
const accept = (extra: Partial<AuthResult> = {}): AuthResult => ({ ...base, type: 'accept', server: 'a', ...extra }) as AuthResult;
const reject = (replyMessage?: string): AuthResult => ({ ...base, type: 'reject', server: 'a', replyMessage });
const challenge = (prompt: string, state = Buffer.from('state-1')): AuthResult => ({
  ...base,
  type: 'challenge',
  server: 'a',
  replyMessage: prompt,
  state,
  echo: false,
});
const noReply = (): Error => new RadiusUnavailableError([{ server: 'a', reason: 'timeout', dropped: {} }]);

type Reply = AuthResult | Error;

/** A client that answers from a script and records what the strategy sent. */
class FakeClient implements RadiusStrategyClient {
  readonly serverNames = SERVERS.map((s) => s.name);
  readonly sent: Array<{ kind: 'authenticate'; request: AuthenticateRequest } | { kind: 'respond'; request: ChallengeResponseRequest }> = [];
  constructor(private readonly replies: Reply[]) {}
  servers(): ReadonlyArray<{ name: string; address: string }> {
    return SERVERS;
  }
  authenticate(request: AuthenticateRequest): Promise<AuthResult> {
    this.sent.push({ kind: 'authenticate', request });
    return this.next();
  }
  respond(request: ChallengeResponseRequest): Promise<AuthResult> {
    this.sent.push({ kind: 'respond', request });
    return this.next();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  private next(): Promise<AuthResult> {
    const reply = this.replies.shift();
    if (reply === undefined) return Promise.reject(new Error('FakeClient: no reply scripted'));
    return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply);
  }
}

/** express-session's Session in miniature: data, save() and regenerate() (a new object on req.session). */
function fakeSession(req: { session?: unknown }, data: Record<string, unknown> = {}): Record<string, unknown> {
  const session: Record<string, unknown> = { ...data };
  Object.defineProperties(session, {
    save: { value: (done: (err?: unknown) => void) => done(), enumerable: false },
    regenerate: {
      value: (done: (err?: unknown) => void) => {
        req.session = fakeSession(req);
        done();
      },
      enumerable: false,
    },
  });
  return session;
}

interface FakeRequest {
  body: Record<string, unknown>;
  query: Record<string, unknown>;
  session?: Record<string, unknown>;
}

function request(body: Record<string, unknown>, opts: { query?: Record<string, unknown>; session?: Record<string, unknown> | false } = {}): FakeRequest {
  const req: FakeRequest = { body, query: opts.query ?? {} };
  if (opts.session !== false) req.session = fakeSession(req, opts.session ?? {});
  return req;
}

type Action =
  | { action: 'success'; user: unknown; info: unknown }
  | { action: 'fail'; challenge: { message?: string; challenge?: boolean }; status: number | undefined }
  | { action: 'redirect'; url: string; status: number | undefined }
  | { action: 'pass' }
  | { action: 'error'; err: Error };

/** Runs `authenticate` as Passport would and resolves with the one action it called (two → the test fails). */
function authenticate(strategy: RadiusStrategy<FakeClient>, req: FakeRequest): Promise<Action> {
  return new Promise((resolve, reject) => {
    const actions: Action[] = [];
    const record = (a: Action): void => {
      actions.push(a);
      if (actions.length === 1) setImmediate(() => (actions.length === 1 ? resolve(a) : reject(new Error(`${actions.length} actions`))));
    };
    // Passport's own way: a child object of the strategy with the actions attached.
    const s = Object.create(strategy) as Record<string, unknown> & { authenticate(req: Request): void };
    s.success = (user: unknown, info: unknown) => record({ action: 'success', user, info });
    s.fail = (c: { message?: string }, status?: number) => record({ action: 'fail', challenge: c, status });
    s.redirect = (url: string, status?: number) => record({ action: 'redirect', url, status });
    s.pass = () => record({ action: 'pass' });
    s.error = (err: Error) => record({ action: 'error', err });
    s.authenticate(req as unknown as Request);
  });
}

function build(replies: Reply[], options: RadiusStrategyOwnOptions = {}, verify?: VerifyFunction): RadiusStrategy<FakeClient> {
  return new RadiusStrategy({ client: new FakeClient(replies), ...options }, verify);
}

/** A pending challenge as the strategy stores it (for rows that start at the code step). */
function pending(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `id-${Math.random()}`,
    state: Buffer.from('state-1').toString('base64'),
    server: 'a',
    address: '192.0.2.1',
    strategy: 'radius',
    username: 'carol',
    prompt: 'Enter the code',
    echo: false,
    round: 1,
    expiresAt: Date.now() + 60_000,
    ...extra,
  };
}

/* ---------------------------------------------------------------- the table */

interface Row {
  what: string;
  replies?: Reply[];
  options?: RadiusStrategyOwnOptions;
  verify?: VerifyFunction;
  req: () => FakeRequest;
  /** The action and what it carried. */
  expect: { action: Action['action']; status?: number; message?: string; url?: string; error?: string };
  /** Requests the client was asked to send. */
  sent: number;
  /** Extra checks on the request afterwards (its session). */
  then?: (req: FakeRequest, action: Action) => void;
}

const CODE_OVER_128 = '7'.repeat(129);

const rows: Row[] = [
  { what: 'missing user name', req: () => request({ password: 'pw' }), expect: { action: 'fail', status: 400, message: 'Missing credentials' }, sent: 0 },
  { what: 'missing password and code', req: () => request({ username: 'alice' }), expect: { action: 'fail', status: 400, message: 'Missing credentials' }, sent: 0 },
  { what: 'password over 128 bytes', req: () => request({ username: 'alice', password: 'é'.repeat(65) }), expect: { action: 'fail', status: 400, message: 'Password is too long' }, sent: 0 },
  { what: 'user name over 253 bytes', req: () => request({ username: 'u'.repeat(254), password: 'pw' }), expect: { action: 'fail', status: 400, message: 'User name is too long' }, sent: 0 },
  ...[
    ['a NUL', 'trudy\u0000@globex.example'],
    ['a line feed', 'alice\nroot'],
    ['C1 NEL', 'alice\u0085'],
    ['a line separator', 'alice\u2028root'],
    ['a right-to-left override', 'gen\u202Euine'],
    ['a first-strong isolate', 'alice\u2068'],
  ].map(([name, username]) => ({
    what: `user name with ${name!}`,
    req: () => request({ username: username!, password: 'pw' }),
    expect: { action: 'fail' as const, status: 400, message: 'Invalid user name' },
    sent: 0,
  })),
  {
    what: 'credentials in the query string',
    req: () => request({}, { query: { username: 'alice', password: 'pw' } }),
    expect: { action: 'fail', status: 400, message: 'Send the user name, password and code in the request body, not in the URL' },
    sent: 0,
  },
  {
    what: 'a user name in the query string next to a password in the body',
    req: () => request({ password: 'pw' }, { query: { username: 'alice' } }),
    expect: { action: 'fail', status: 400, message: 'Send the user name, password and code in the request body, not in the URL' },
    sent: 0,
  },
  {
    what: 'a code in the query string',
    req: () => request({}, { query: { code: '123456' }, session: { radius: pending() } }),
    expect: { action: 'fail', status: 400, message: 'Send the user name, password and code in the request body, not in the URL' },
    sent: 0,
    then: (req) => assert.equal((req.session?.radius as { username: string }).username, 'carol', 'the challenge was spent'),
  },
  {
    what: 'credentials in the query string with allowQueryCredentials',
    replies: [accept()],
    options: { allowQueryCredentials: true },
    req: () => request({}, { query: { username: 'alice', password: 'pw' } }),
    expect: { action: 'success' },
    sent: 1,
  },
  {
    what: 'verified Access-Accept, no verify callback',
    replies: [accept({ replyMessage: 'Welcome', rawAttributes: [{ type: 27, value: Buffer.from([0, 0, 14, 16]) }] })],
    req: () => request({ username: 'alice', password: 'pw' }),
    expect: { action: 'success' },
    sent: 1,
    then: (_req, a) => {
      assert.ok(a.action === 'success');
      assert.deepEqual(a.info, { server: 'a', replyMessage: 'Welcome', sessionTimeout: 3600 });
      assert.deepEqual((a.user as { provider: string; username: string }).provider, 'radius');
      assert.deepEqual((a.user as { username: string }).username, 'alice');
    },
  },
  {
    what: 'verified Access-Accept, verify gives a user',
    replies: [accept()],
    verify: (username, profile, done) => done(null, { id: `${profile.server}:${username}` }),
    req: () => request({ username: 'alice', password: 'pw' }),
    expect: { action: 'success' },
    sent: 1,
    then: (_req, a) => assert.deepEqual(a.action === 'success' && a.user, { id: 'a:alice' }),
  },
  { what: 'Access-Reject with Reply-Messages', replies: [reject('Account locked')], req: () => request({ username: 'alice', password: 'pw' }), expect: { action: 'fail', status: 401, message: 'Account locked' }, sent: 1 },
  { what: 'Access-Reject without Reply-Message', replies: [reject()], req: () => request({ username: 'alice', password: 'pw' }), expect: { action: 'fail', status: 401, message: 'Invalid username or password' }, sent: 1 },
  {
    what: 'Access-Challenge with challengeURL',
    replies: [challenge('Enter the code')],
    options: { challengeURL: '/login/challenge' },
    req: () => request({ username: 'carol', password: 'pw' }),
    expect: { action: 'redirect', status: 303, url: '/login/challenge' },
    sent: 1,
    then: (req) => {
      const stored = req.session?.radius as { state: string; server: string; username: string; round: number };
      assert.equal(Buffer.from(stored.state, 'base64').toString(), 'state-1');
      assert.deepEqual([stored.server, stored.username, stored.round], ['a', 'carol', 1]);
      assert.ok(!JSON.stringify(req.session).includes('"pw"'), 'the password is in the session');
    },
  },
  {
    what: 'Access-Challenge without challengeURL',
    replies: [challenge('Enter the code')],
    req: () => request({ username: 'carol', password: 'pw' }),
    expect: { action: 'fail', status: 401, message: 'Enter the code' },
    sent: 1,
    then: (req, a) => {
      assert.equal(a.action === 'fail' && a.challenge.challenge, true);
      assert.equal((req.session?.radius as { username: string }).username, 'carol');
    },
  },
  {
    what: 'a code answering the pending challenge, accepted',
    replies: [accept()],
    req: () => request({ code: '123456', username: 'mallory' }, { session: { radius: pending() } }),
    expect: { action: 'success' },
    sent: 1,
    then: (req) => assert.equal(req.session?.radius, undefined),
  },
  {
    what: 'a wrong code',
    replies: [reject()],
    req: () => request({ code: '000000' }, { session: { radius: pending() } }),
    expect: { action: 'fail', status: 401, message: 'Invalid code' },
    sent: 1,
  },
  {
    what: 'a code over 128 bytes',
    req: () => request({ code: CODE_OVER_128 }, { session: { radius: pending() } }),
    expect: { action: 'fail', status: 400, message: 'Code is too long' },
    sent: 0,
    then: (req) => assert.equal((req.session?.radius as { username: string }).username, 'carol', 'the challenge was spent'),
  },
  { what: 'a code with no pending challenge', req: () => request({ code: '123456' }), expect: { action: 'fail', status: 403, message: 'No pending RADIUS challenge' }, sent: 0 },
  {
    what: 'a code for an expired challenge',
    req: () => request({ code: '123456' }, { session: { radius: pending({ expiresAt: Date.now() - 1 }) } }),
    expect: { action: 'fail', status: 403, message: 'No pending RADIUS challenge' },
    sent: 0,
  },
  {
    what: 'a code for a challenge another strategy issued',
    req: () => request({ code: '123456' }, { session: { radius: pending({ strategy: 'other' }) } }),
    expect: { action: 'fail', status: 403, message: 'No pending RADIUS challenge' },
    sent: 0,
  },
  {
    what: 'a code for a challenge from a server now at another address',
    req: () => request({ code: '123456' }, { session: { radius: pending({ address: '198.51.100.9' }) } }),
    expect: { action: 'fail', status: 403, message: 'No pending RADIUS challenge' },
    sent: 0,
  },
  {
    what: 'more challenge rounds than maxChallengeRounds',
    replies: [challenge('Enter code 2')],
    options: { maxChallengeRounds: 1 },
    req: () => request({ code: '111111' }, { session: { radius: pending() } }),
    expect: { action: 'fail', status: 401, message: 'Too many challenge rounds' },
    sent: 1,
  },
  { what: 'no server gave a valid reply', replies: [noReply()], req: () => request({ username: 'alice', password: 'pw' }), expect: { action: 'error', error: 'RadiusUnavailableError' }, sent: 1 },
  {
    what: 'an Access-Challenge without session middleware',
    replies: [challenge('Enter the code')],
    req: () => request({ username: 'carol', password: 'pw' }, { session: false }),
    expect: { action: 'error', error: 'RadiusSessionError' },
    sent: 1,
  },
  { what: 'a code without session middleware', req: () => request({ code: '123456' }, { session: false }), expect: { action: 'error', error: 'RadiusSessionError' }, sent: 0 },
  {
    what: 'verify calls done(err)',
    replies: [accept()],
    verify: (_u, _p, done) => done(new Error('directory down')),
    req: () => request({ username: 'alice', password: 'pw' }),
    expect: { action: 'error', error: 'Error' },
    sent: 1,
  },
  {
    what: 'verify calls done(null, false, info)',
    replies: [accept()],
    verify: (_u, _p, done) => done(null, false, { message: 'Not in the admins group' }),
    req: () => request({ username: 'alice', password: 'pw' }),
    expect: { action: 'fail', status: 401, message: 'Not in the admins group' },
    sent: 1,
  },
];

describe('RadiusStrategy outcomes (README "Outcomes", fake client, no sockets)', function () {
  for (const row of rows) {
    const { expect } = row;
    const label = `${expect.action}${expect.status ? ` ${expect.status}` : ''}${expect.error ? ` ${expect.error}` : ''}`;
    it(`${row.what} → ${label}, ${row.sent} request(s) sent`, async function () {
      const strategy = build(row.replies ?? [], row.options, row.verify);
      const req = row.req();
      const action = await authenticate(strategy, req);
      assert.equal(action.action, expect.action, JSON.stringify(action));
      if (action.action === 'fail') {
        assert.equal(action.status, expect.status);
        if (expect.message !== undefined) assert.equal(action.challenge.message, expect.message);
      }
      if (action.action === 'redirect') {
        assert.equal(action.status, expect.status);
        assert.equal(action.url, expect.url);
      }
      if (action.action === 'error') assert.equal(action.err.name, expect.error);
      assert.equal(strategy.client.sent.length, row.sent, 'requests sent');
      row.then?.(req, action);
    });
  }

  it('answers one challenge once: the second request carrying it fails 403 and sends nothing', async function () {
    const strategy = build([accept(), accept()]);
    const radius = pending();
    const first = request({ code: '123456' }, { session: { radius } });
    const second = request({ code: '123456' }, { session: { radius } }); // its own copy of the same session
    const [a, b] = await Promise.all([authenticate(strategy, first), authenticate(strategy, second)]);
    assert.deepEqual([a.action, b.action].sort(), ['fail', 'success']);
    assert.equal(strategy.client.sent.length, 1);
  });

  for (const allowQueryCredentials of [false, true]) {
    it(`gives selectServers the user name that is sent (allowQueryCredentials: ${allowQueryCredentials})`, async function () {
      const chosenFor: string[] = [];
      const strategy = build([accept()], {
        allowQueryCredentials,
        selectServers: (_req, username) => {
          chosenFor.push(username);
          return ['b'];
        },
      });
      // Body first: a user name in the query string never overrides the body's.
      const req = request({ username: 'alice', password: 'pw' }, allowQueryCredentials ? { query: { username: 'mallory' } } : {});
      const action = await authenticate(strategy, req);
      assert.equal(action.action, 'success');
      const [sent] = strategy.client.sent;
      assert.ok(sent?.kind === 'authenticate');
      assert.deepEqual([chosenFor, sent.request.username, sent.request.servers], [['alice'], 'alice', ['b']]);
    });
  }

  it('sends the code with the user name and State of the challenge, to the issuing server', async function () {
    const strategy = build([accept()]);
    await authenticate(strategy, request({ code: '123456', username: 'mallory' }, { session: { radius: pending({ server: 'b', address: '192.0.2.2' }) } }));
    const [sent] = strategy.client.sent;
    assert.ok(sent?.kind === 'respond');
    assert.equal(sent.request.server, 'b');
    assert.equal(sent.request.username, 'carol');
    assert.equal(sent.request.response, '123456');
    assert.equal(sent.request.state?.toString(), 'state-1');
  });

  it('refuses client options next to a client, and a client without the methods it needs', function () {
    assert.throws(
      () => new RadiusStrategy({ client: new FakeClient([]), ...({ holdDown: 0 } as object) }),
      { name: 'TypeError', message: /client and holdDown cannot be given together/ },
    );
    assert.throws(() => new RadiusStrategy({ client: {} as FakeClient }), { name: 'TypeError', message: /client must be a RADIUS client/ });
  });
});

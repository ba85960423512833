/**
 * Settings > Security > RADIUS: the list of servers (state, round trip, last error, last test) and the
 * seed's "RADIUS Server Setup" form — name, host:port address (tested as the admin types or on "Test":
 * "testing…", then "Reachable (N ms)" or "Failed: why"), shared secret (write-only), attribute/value
 * pairs, timeout seconds, CHAP or PAP. Every change is a POST (cross-origin ones are refused by csrf.ts).
 */
import { Router, type Request, type Response } from 'express';
import { probe } from '../../lib';
import { escapeHtml, message, page } from '../html';
import { describeProbe, type ServerMonitor } from '../monitor';
import type { RadiusConsole } from '../radius';
import { checkName, organizationsUsing, toServerOptions, type ServerSetting } from '../settings';
import { currentUser, field, requireAdmin, setFlash, takeFlash, withWarning } from '../web';

/** Longest the "Test" of the form may take, in ms (the server's own timeout when shorter). */
const TEST_TIMEOUT_MS = 5000;
/**
 * Shortest shared secret the form accepts, in octets: RFC 2865 §3 says it SHOULD be at least 16, and an
 * offline dictionary attack needs only one Access-Request and its reply. (The library itself only warns.)
 */
export const MIN_SECRET_OCTETS = 16;
const DEFAULT_ATTRIBUTES: Array<[string, string]> = [['NAS-Identifier', 'radius-console']];

/** "Name = value" lines → pairs. @throws TypeError naming the line. */
function parseAttributes(text: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new TypeError(`Attributes, line ${i + 1}: write "Name = value", e.g. "NAS-Identifier = console".`);
    pairs.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  });
  return pairs;
}

/** The form's fields as a server setting; a blank secret keeps `existing`'s. @throws TypeError for the admin. */
function fromForm(req: Request, existing: ServerSetting | undefined): ServerSetting {
  const name = field(req, 'name').trim();
  if (name === '') throw new TypeError('Enter a server name.');
  checkName(name, 'The server name');
  const address = field(req, 'address').trim();
  if (address === '') throw new TypeError('Enter the address as hostname:port.');
  const typed = field(req, 'secret');
  // A secret typed here must be long enough; one kept from before (RADIUS_* variables, an older save) was
  // accepted where it came from, and the library's 'short-secret' warning puts it in the alerts.
  if (typed !== '' && Buffer.byteLength(typed, 'utf8') < MIN_SECRET_OCTETS) {
    throw new TypeError(
      `The shared secret must be at least ${MIN_SECRET_OCTETS} bytes long (RFC 2865 §3): a short one can be guessed offline from one captured reply. Set a longer secret on the RADIUS server too.`,
    );
  }
  const secret = typed || existing?.secret || '';
  if (secret === '') throw new TypeError('Enter the shared secret.');
  const timeoutSeconds = Number(field(req, 'timeout') || '5');
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 600) throw new TypeError('Timeout seconds must be from 1 to 600.');
  const protocol = field(req, 'protocol') === 'chap' ? 'chap' : 'pap';
  const accountingAddress = field(req, 'accountingAddress').trim();
  return {
    name,
    address,
    secret,
    attributes: parseAttributes(field(req, 'attributes')),
    timeoutSeconds,
    protocol,
    ...(field(req, 'allowEmptyResponse') === '1' ? { allowEmptyResponse: true } : {}),
    ...(accountingAddress ? { accountingAddress } : {}),
  };
}

/** The strategy's messages name the list position; the admin knows the server by name. */
function forAdmin(err: unknown, name: string): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^RadiusStrategy: servers\[\d+\](?: \("(?:[^"\\]|\\.)*"\))?\.?/, `Server "${name}": `);
}

interface FormState {
  values: Partial<ServerSetting>;
  /** The server being edited (its current name), absent for Add. */
  original?: string | undefined;
  error?: string | undefined;
  test?: { state: string; text: string } | undefined;
}

function serverForm(s: FormState): string {
  const v = s.values;
  const action = s.original === undefined ? '/settings/radius' : `/settings/radius/edit/${encodeURIComponent(s.original)}`;
  const attributes = (v.attributes ?? DEFAULT_ATTRIBUTES).map(([n, val]) => `${n} = ${val}`).join('\n');
  const protocol = v.protocol ?? 'pap';
  return `${message('error', s.error)}
<form method="post" action="${action}" id="server-form" class="panel" data-test-url="/settings/radius/test">
${s.original === undefined ? '' : `<input type="hidden" name="original" value="${escapeHtml(s.original)}">`}
<label for="name">Server name</label>
<input id="name" name="name" required value="${escapeHtml(v.name ?? '')}" autocomplete="off">
<label for="address">Address</label>
<div class="row"><input id="address" name="address" required placeholder="radius.example.com:1812" value="${escapeHtml(v.address ?? '')}" autocomplete="off" aria-describedby="address-test address-hint">
<button type="submit" class="secondary" id="test-button" formaction="/settings/radius/test">Test</button>
<span id="address-test" class="test-result ${escapeHtml(s.test?.state ?? '')}" role="status" aria-live="polite">${escapeHtml(s.test?.text ?? '')}</span></div>
<p class="hint" id="address-hint">hostname:port (port 1812 when left out). Tested as you type, with the secret and attributes below.</p>
<label for="secret">Shared secret</label>
<input id="secret" name="secret" type="password" autocomplete="new-password" minlength="${MIN_SECRET_OCTETS}" aria-describedby="secret-hint" ${s.original === undefined ? 'required' : 'placeholder="Unchanged — type a new one to replace it"'}>
<p class="hint" id="secret-hint">At least ${MIN_SECRET_OCTETS} characters (RFC 2865 §3). Write-only: the secret is never shown again or written to the log.</p>
<label for="attributes">Attributes</label>
<textarea id="attributes" name="attributes" spellcheck="false">${escapeHtml(attributes)}</textarea>
<p class="hint">Sent with each access request, one "Name = value" per line. NAS-Identifier or NAS-IP-Address is required.</p>
<label for="timeout">Timeout seconds</label>
<input id="timeout" name="timeout" type="number" min="1" max="600" step="any" value="${escapeHtml(String(v.timeoutSeconds ?? 5))}">
<fieldset><legend>Protocol</legend>
<label class="choice"><input type="radio" name="protocol" value="chap"${protocol === 'chap' ? ' checked' : ''}> CHAP — the password itself is not sent</label>
<label class="choice"><input type="radio" name="protocol" value="pap"${protocol === 'pap' ? ' checked' : ''}> PAP — the password is sent hidden with the shared secret</label>
</fieldset>
<label class="choice"><input type="checkbox" id="allow-empty" name="allowEmptyResponse" value="1"${v.allowEmptyResponse ? ' checked' : ''}> Allow an empty code (push: FortiAuthenticator, privacyIDEA)</label>
<label for="accounting-address">Accounting to (hostname:port)</label>
<input id="accounting-address" name="accountingAddress" placeholder="same host, port 1813" value="${escapeHtml(v.accountingAddress ?? '')}" autocomplete="off">
<p class="hint">Where sign-in and sign-out are recorded (RFC 2866), when the console keeps accounting.</p>
<div class="actions"><button type="submit">Save</button><a class="button secondary" href="/settings/radius">Cancel</a></div>
</form>`;
}

/** The servers routes (admins only). */
export function serverRoutes(radius: RadiusConsole, monitor: ServerMonitor): Router {
  const router = Router();
  router.use('/settings/radius', requireAdmin);

  const render = (req: Request, res: Response, title: string, state: FormState, status = 200): void => {
    res.status(status).type('html').send(page({ title, user: currentUser(req), active: '/settings/radius', script: 'servers.js' }, serverForm(state)));
  };
  const existing = (name: string | undefined): ServerSetting | undefined =>
    name === undefined ? undefined : radius.settings.servers.find((s) => s.name === name);

  router.get('/settings/radius', (req, res) => {
    const flash = takeFlash(req);
    const status = new Map(radius.strategy.client.serverStatus().map((s) => [s.name, s]));
    const rows = radius.settings.servers
      .map((s) => {
        const live = status.get(s.name);
        const test = monitor.get(s.name);
        const described = test ? describeProbe(test.result) : undefined;
        const state =
          live?.state === 'held-down' ? '<span class="state-down">Down</span>' : described?.state === 'failed' ? '<span class="state-down">Failing</span>' : '<span class="state-up">In use</span>';
        return `<tr><td><a href="/settings/radius/edit/${encodeURIComponent(s.name)}">${escapeHtml(s.name)}</a>${s.demo ? ' <span class="badge">demo</span>' : ''}
<br><span class="hint">${escapeHtml(s.address)}</span></td><td>${s.protocol.toUpperCase()}, ${s.timeoutSeconds} s</td><td>${state}</td>
<td>${live?.lastRttMs === undefined ? '–' : `${live.lastRttMs.toFixed(1)} ms`}</td><td>${escapeHtml(live?.lastError ?? '')}</td>
<td>${described ? `<span class="test-result ${described.state}">${escapeHtml(described.text)}</span>` : '<span class="muted">not tested yet</span>'}</td>
<td class="nowrap"><a href="/settings/radius/edit/${encodeURIComponent(s.name)}">Edit</a>
<form method="post" action="/settings/radius/delete/${encodeURIComponent(s.name)}" class="inline"><button type="submit" class="danger" aria-label="Delete ${escapeHtml(s.name)}">Delete</button></form></td></tr>`;
      })
      .join('\n');
    res.type('html').send(
      page(
        { title: 'RADIUS servers', user: currentUser(req), active: '/settings/radius' },
        `${message(flash?.kind ?? 'ok', flash?.text)}
<p class="muted">Organizations choose from these servers and consult them in the order they choose. <a href="/organizations">Organizations</a></p>
<div class="actions"><a class="button" href="/settings/radius/new">Add</a></div>
<div class="table-wrap"><table id="servers">
<thead><tr><th>Server name and address</th><th>Protocol, timeout</th><th>State</th><th>Last round trip</th><th>Last error</th><th>Last test</th><th>Actions</th></tr></thead>
<tbody>${rows}</tbody></table></div>`,
      ),
    );
  });

  router.get('/settings/radius/new', (req, res) => render(req, res, 'Add a RADIUS server', { values: {} }));

  // "Test": JSON for the page's script, or the form again with the result when scripts are off.
  router.post('/settings/radius/test', async (req, res, next) => {
    const original = field(req, 'original') || undefined;
    const wantsJson = req.accepts(['html', 'json']) === 'json';
    let result: { state: string; text: string };
    try {
      const server = fromForm(req, existing(original));
      const timeout = Math.min(server.timeoutSeconds * 1000, TEST_TIMEOUT_MS);
      result = describeProbe(await probe(toServerOptions(server), { timeout }));
    } catch (err) {
      if (!(err instanceof TypeError)) return next(err);
      result = { state: 'failed', text: `Failed: ${forAdmin(err, field(req, 'name'))}` };
    }
    if (wantsJson) return void res.json(result);
    const values = { ...safeValues(req) };
    render(req, res, original === undefined ? 'Add a RADIUS server' : `Edit ${original}`, { values, original, test: result });
  });

  router.post('/settings/radius', async (req, res, next) => {
    let server: ServerSetting;
    let warning: string | undefined;
    try {
      server = fromForm(req, undefined);
      warning = await radius.update((draft) => {
        if (draft.servers.some((s) => s.name === server.name)) throw new TypeError(`There is already a server named "${server.name}".`);
        draft.servers.push(server);
      }, currentUser(req));
    } catch (err) {
      if (!(err instanceof TypeError)) return next(err);
      return render(req, res, 'Add a RADIUS server', { values: safeValues(req), error: forAdmin(err, field(req, 'name')) }, 400);
    }
    void monitor.checkNow();
    setFlash(req, warning ? 'warn' : 'ok', withWarning(`Saved ${server.name}.`, warning));
    res.redirect(303, '/settings/radius');
  });

  router.get('/settings/radius/edit/:name', (req, res) => {
    const server = existing(req.params.name);
    if (!server) return void res.status(404).type('html').send(page({ title: 'Not found', user: currentUser(req) }, '<p>There is no such server.</p>'));
    const { secret, ...values } = server; // the secret is write-only: never sent back to the browser
    void secret;
    render(req, res, `Edit ${server.name}`, { values, original: server.name });
  });

  router.post('/settings/radius/edit/:name', async (req, res, next) => {
    const original = req.params.name;
    let server: ServerSetting;
    let warning: string | undefined;
    try {
      const old = existing(original);
      if (!old) throw new TypeError(`There is no server named "${original}" any more.`);
      server = fromForm(req, old);
      warning = await radius.update((draft) => {
        const i = draft.servers.findIndex((s) => s.name === original);
        if (i < 0) throw new TypeError(`There is no server named "${original}" any more.`);
        if (server.name !== original && draft.servers.some((s) => s.name === server.name)) throw new TypeError(`There is already a server named "${server.name}".`);
        draft.servers[i] = server;
        // A renamed server stays chosen by the organizations that chose it.
        for (const org of draft.organizations) org.providers = org.providers.map((p) => (p === original ? server.name : p));
      }, currentUser(req));
    } catch (err) {
      if (!(err instanceof TypeError)) return next(err);
      return render(req, res, `Edit ${original}`, { values: safeValues(req), original, error: forAdmin(err, field(req, 'name')) }, 400);
    }
    void monitor.checkNow();
    setFlash(req, warning ? 'warn' : 'ok', withWarning(`Saved ${server.name}.`, warning));
    res.redirect(303, '/settings/radius');
  });

  router.post('/settings/radius/delete/:name', async (req, res, next) => {
    const name = req.params.name;
    let warning: string | undefined;
    try {
      warning = await radius.update((draft) => {
        const users = organizationsUsing(draft, name);
        if (users.length > 0) throw new TypeError(`${name} is chosen by ${users.join(', ')}: choose other providers there first.`);
        if (draft.servers.length === 1) throw new TypeError('The last server cannot be deleted: administrators sign in through RADIUS too.');
        draft.servers = draft.servers.filter((s) => s.name !== name);
      }, currentUser(req));
    } catch (err) {
      if (!(err instanceof TypeError)) return next(err);
      setFlash(req, 'error', err.message);
      return res.redirect(303, '/settings/radius');
    }
    setFlash(req, warning ? 'warn' : 'ok', withWarning(`Deleted ${name}.`, warning));
    res.redirect(303, '/settings/radius');
  });

  return router;
}

/** The form's values to show again, without the secret (write-only) and tolerant of bad input. */
function safeValues(req: Request): Partial<ServerSetting> {
  let attributes: Array<[string, string]> | undefined;
  try {
    attributes = parseAttributes(field(req, 'attributes'));
  } catch {
    attributes = undefined;
  }
  const timeout = Number(field(req, 'timeout'));
  return {
    name: field(req, 'name'),
    address: field(req, 'address'),
    ...(attributes ? { attributes } : {}),
    ...(Number.isFinite(timeout) && timeout > 0 ? { timeoutSeconds: timeout } : {}),
    protocol: field(req, 'protocol') === 'chap' ? 'chap' : 'pap',
    ...(field(req, 'allowEmptyResponse') === '1' ? { allowEmptyResponse: true } : {}),
    accountingAddress: field(req, 'accountingAddress'),
  };
}

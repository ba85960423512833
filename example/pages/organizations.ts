/**
 * Organizations: the tree (system-wide → organizations → child organizations) with each one's effective
 * sign-in (its own security settings or those inherited from its parent), and the Security form of the
 * seed's steps 3A/3B — "Inherit security settings from parent", "Select an authentication method",
 * "Choose provider(s)" in order. Sign-in asks these settings through `selectServers` (see ../radius.ts).
 */
import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { escapeHtml, message, page } from '../html';
import type { RadiusConsole } from '../radius';
import { checkName, effectiveSecurity, findOrganization, organizationTree, SYSTEM_ID, type OrganizationSetting, type Settings } from '../settings';
import { currentUser, field, requireAdmin, setFlash, takeFlash, withWarning } from '../web';

/** "RADIUS: a, b (inherited from X)" or "Sign-in off". */
function effectiveText(settings: Settings, org: OrganizationSetting): string {
  const eff = effectiveSecurity(settings, org);
  const what = eff.method === 'radius' ? (eff.providers.length ? `RADIUS: ${eff.providers.join(', ')}` : 'RADIUS, but no provider chosen (sign-in off)') : 'Sign-in off';
  return eff.from.id === org.id ? what : `${what} (inherited from ${eff.from.name})`;
}

function providerChoices(settings: Settings, org: OrganizationSetting): string {
  if (settings.servers.length === 0) return '<p class="muted">No RADIUS server is configured yet. <a href="/settings/radius/new">Add one</a>.</p>';
  // Chosen providers first, in their order, then the others in the order they were added.
  const names = [...org.providers, ...settings.servers.map((s) => s.name).filter((n) => !org.providers.includes(n))];
  return names
    .map((name, i) => {
      const chosen = org.providers.includes(name);
      const id = `provider-${i}`;
      return `<div class="choice"><input type="checkbox" id="${id}" name="providers" value="${escapeHtml(name)}"${chosen ? ' checked' : ''}>
<label for="${id}" class="choice">${escapeHtml(name)}</label>
<label class="choice muted" for="${id}-order">order</label><input type="number" id="${id}-order" name="order:${escapeHtml(name)}" min="1" value="${i + 1}"></div>`;
    })
    .join('\n');
}

function organizationForm(settings: Settings, org: OrganizationSetting, error?: string): string {
  const system = org.id === SYSTEM_ID;
  const parents = organizationTree(settings).filter(({ org: o }) => o.id !== org.id && !isDescendant(settings, o, org));
  const parentSelect = system
    ? ''
    : `<label for="parent">Parent organization</label><select id="parent" name="parent">${parents
        .map(({ org: o, depth }) => `<option value="${escapeHtml(o.id)}"${o.id === org.parent ? ' selected' : ''}>${'\u00a0\u00a0'.repeat(depth)}${escapeHtml(o.name)}</option>`)
        .join('')}</select>`;
  return `${message('error', error)}
<form method="post" action="/organizations/${encodeURIComponent(org.id)}" class="panel" id="organization-form">
<label for="name">Name</label><input id="name" name="name" required value="${escapeHtml(org.name)}">
${system ? '' : `<label for="domain">User name domain</label><input id="domain" name="domain" placeholder="acme.example" value="${escapeHtml(org.domain ?? '')}">
<p class="hint">Users named <code>name@domain</code> belong to this organization.</p>
<label for="users">Users</label><textarea id="users" name="users" spellcheck="false" placeholder="one user name per line">${escapeHtml((org.users ?? []).join('\n'))}</textarea>
<p class="hint">These user names belong here whatever their domain, e.g. a test user.</p>`}
${parentSelect}
<fieldset><legend>Security</legend>
${system ? '<p class="hint">The system-wide settings apply to every organization that inherits them, and to users of no organization.</p>' : `<label class="choice"><input type="checkbox" id="inherit" name="inherit" value="1"${org.inherit ? ' checked' : ''}> Inherit security settings from parent</label>`}
<p class="hint">Effective now: <strong id="effective">${escapeHtml(effectiveText(settings, org))}</strong></p>
<label for="method">Select an authentication method</label>
<select id="method" name="method"><option value="radius"${org.method === 'radius' ? ' selected' : ''}>RADIUS</option><option value="none"${org.method === 'none' ? ' selected' : ''}>None (sign-in off)</option></select>
<p class="hint">Used when the organization does not inherit.</p>
<p><strong>Choose provider(s)</strong> <span class="hint">— consulted in this order; a user rejected by one is tried on the next.</span></p>
<div class="providers">${providerChoices(settings, org)}</div>
</fieldset>
<div class="actions"><button type="submit">Save</button><a class="button secondary" href="/organizations">Cancel</a></div>
</form>
${system ? '' : `<form method="post" action="/organizations/${encodeURIComponent(org.id)}/delete" class="actions"><button type="submit" class="danger">Delete ${escapeHtml(org.name)}</button></form>`}`;
}

function isDescendant(settings: Settings, candidate: OrganizationSetting, ancestor: OrganizationSetting): boolean {
  for (let o: OrganizationSetting | undefined = candidate; o && o.parent !== undefined; o = findOrganization(settings, o.parent)) {
    if (o.parent === ancestor.id) return true;
  }
  return false;
}

/** The chosen providers in the order the admin numbered them (ties keep the page's order). */
function chosenProviders(req: Request): string[] {
  const raw = (req.body as Record<string, unknown>).providers;
  const names = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((n): n is string => typeof n === 'string');
  const order = (name: string): number => Number(field(req, `order:${name}`)) || Number.MAX_SAFE_INTEGER;
  return names.map((name, i) => ({ name, i })).sort((a, b) => order(a.name) - order(b.name) || a.i - b.i).map((x) => x.name);
}

/** The organizations routes (admins only). */
export function organizationRoutes(radius: RadiusConsole): Router {
  const router = Router();
  router.use('/organizations', requireAdmin);

  const list = (req: Request, res: Response, error?: string, status = 200): void => {
    const settings = radius.settings;
    const flash = takeFlash(req);
    const rows = organizationTree(settings)
      .map(
        ({ org, depth }) => `<tr><td class="depth-${Math.min(depth, 3)}"><a href="/organizations/${encodeURIComponent(org.id)}">${escapeHtml(org.name)}</a></td>
<td>${escapeHtml([org.domain ?? (org.id === SYSTEM_ID ? 'everyone else' : ''), ...(org.users ?? [])].filter((x) => x !== '').join(', '))}</td><td>${org.id === SYSTEM_ID ? 'own' : org.inherit ? 'inherited' : 'own'}</td>
<td class="effective">${escapeHtml(effectiveText(settings, org))}</td></tr>`,
      )
      .join('\n');
    const parents = organizationTree(settings)
      .map(({ org, depth }) => `<option value="${escapeHtml(org.id)}">${'\u00a0\u00a0'.repeat(depth)}${escapeHtml(org.name)}</option>`)
      .join('');
    res.status(status).type('html').send(
      page(
        { title: 'Organizations', user: currentUser(req), active: '/organizations' },
        `${message('error', error)}${message(flash?.kind ?? 'ok', flash?.text)}
<div class="table-wrap"><table id="organizations"><thead><tr><th>Organization</th><th>Users (domain, names)</th><th>Security settings</th><th>Signs in with</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<h2>Add an organization</h2>
<form method="post" action="/organizations" class="panel">
<label for="new-name">Name</label><input id="new-name" name="name" required>
<label for="new-domain">User name domain</label><input id="new-domain" name="domain" placeholder="research.acme.example">
<label for="new-parent">Parent organization</label><select id="new-parent" name="parent">${parents}</select>
<p class="hint">A new organization inherits its parent's security settings until you change them.</p>
<div class="actions"><button type="submit">Add</button></div>
</form>`,
      ),
    );
  };

  router.get('/organizations', (req, res) => list(req, res));

  router.post('/organizations', async (req, res, next) => {
    const name = field(req, 'name').trim();
    const domain = field(req, 'domain').trim().toLowerCase();
    const id = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'org'}-${randomBytes(3).toString('hex')}`;
    let warning: string | undefined;
    try {
      if (name === '') throw new TypeError('Enter a name for the organization.');
      checkName(name, 'The organization name');
      checkName(domain, 'The user name domain');
      warning = await radius.update((draft) => {
        draft.organizations.push({ id, name, parent: field(req, 'parent') || SYSTEM_ID, ...(domain ? { domain } : {}), inherit: true, method: 'radius', providers: [] });
      }, currentUser(req));
    } catch (err) {
      if (!(err instanceof TypeError)) return next(err);
      return list(req, res, err.message, 400);
    }
    setFlash(req, warning ? 'warn' : 'ok', withWarning(`Added ${name}. It inherits its parent's security settings.`, warning));
    res.redirect(303, `/organizations/${encodeURIComponent(id)}`);
  });

  router.get('/organizations/:id', (req, res) => {
    const settings = radius.settings;
    const org = findOrganization(settings, req.params.id);
    if (!org) return void res.status(404).type('html').send(page({ title: 'Not found', user: currentUser(req) }, '<p>There is no such organization.</p>'));
    const flash = takeFlash(req);
    res.type('html').send(page({ title: `${org.name}: security`, user: currentUser(req), active: '/organizations' }, `${message('ok', flash?.text)}${organizationForm(settings, org)}`));
  });

  router.post('/organizations/:id', async (req, res, next) => {
    const id = req.params.id;
    let warning: string | undefined;
    try {
      warning = await radius.update((draft) => {
        const org = findOrganization(draft, id);
        if (!org) throw new TypeError('This organization no longer exists.');
        const name = field(req, 'name').trim();
        if (name === '') throw new TypeError('Enter a name for the organization.');
        checkName(name, 'The organization name');
        org.name = name;
        org.method = field(req, 'method') === 'none' ? 'none' : 'radius';
        org.providers = chosenProviders(req);
        if (id !== SYSTEM_ID) {
          const domain = field(req, 'domain').trim().toLowerCase();
          checkName(domain, 'The user name domain');
          if (domain) org.domain = domain;
          else delete org.domain;
          const users = field(req, 'users').split(/\r?\n/).map((u) => u.trim()).filter((u) => u !== '');
          for (const u of users) checkName(u, 'A user name');
          if (users.length > 0) org.users = users;
          else delete org.users;
          org.inherit = field(req, 'inherit') === '1';
          org.parent = field(req, 'parent') || org.parent;
        }
      }, currentUser(req));
    } catch (err) {
      if (!(err instanceof TypeError)) return next(err);
      const settings = radius.settings;
      const org = findOrganization(settings, id);
      if (!org) return list(req, res, err.message, 400);
      return void res.status(400).type('html').send(page({ title: `${org.name}: security`, user: currentUser(req), active: '/organizations' }, organizationForm(settings, org, err.message)));
    }
    setFlash(req, warning ? 'warn' : 'ok', withWarning(`Saved ${field(req, 'name').trim()}.`, warning));
    res.redirect(303, '/organizations');
  });

  router.post('/organizations/:id/delete', async (req, res, next) => {
    const id = req.params.id;
    let warning: string | undefined;
    try {
      warning = await radius.update((draft) => {
        if (id === SYSTEM_ID) throw new TypeError('The system-wide organization cannot be deleted.');
        if (draft.organizations.some((o) => o.parent === id)) throw new TypeError('Delete or move its child organizations first.');
        draft.organizations = draft.organizations.filter((o) => o.id !== id);
      }, currentUser(req));
    } catch (err) {
      if (!(err instanceof TypeError)) return next(err);
      return list(req, res, err.message, 400);
    }
    setFlash(req, warning ? 'warn' : 'ok', withWarning('Deleted.', warning));
    res.redirect(303, '/organizations');
  });

  return router;
}

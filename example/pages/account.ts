/**
 * The signed-in user's page: who they are, their organization, the server that accepted them, and what
 * their organization's security settings are.
 */
import { Router } from 'express';
import { escapeHtml, message, page } from '../html';
import type { RadiusConsole } from '../radius';
import { currentUser, requireUser, takeFlash } from '../web';

/** GET /account. */
export function accountRoutes(radius: RadiusConsole): Router {
  const router = Router();
  router.get('/account', requireUser, (req, res) => {
    const user = currentUser(req)!;
    const flash = takeFlash(req);
    const { providers } = radius.providersOf(user.username);
    const admin =
      user.role === 'admin'
        ? `<h2>Administration</h2>
<p><a href="/settings/radius">RADIUS servers</a> · <a href="/organizations">Organizations</a> · <a href="/alerts">Alerts and log</a> · <a href="/status">Server status</a></p>`
        : '';
    res.type('html').send(
      page(
        { title: 'Account', user, active: '/account' },
        `${message(flash?.kind ?? 'ok', flash?.text)}
<div class="panel">
<p>Signed in as <strong id="username">${escapeHtml(user.username)}</strong> (<span id="role">${escapeHtml(user.role)}</span>).</p>
<p>Organization <strong id="organization">${escapeHtml(user.organization)}</strong>; accepted by RADIUS server <strong id="server">${escapeHtml(user.server)}</strong>.</p>
<p class="muted">Your organization signs in with: ${providers.length ? providers.map((p) => escapeHtml(p)).join(', ') : 'no RADIUS server'}.</p>
</div>
${admin}`,
      ),
    );
  });
  return router;
}

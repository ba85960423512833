/**
 * Alerts and log: RADIUS events one line each, newest first, like the seed's radius.log — server down and
 * up, replies that failed verification, missing Message-Authenticator, rejects — from the client's events
 * and the reachability monitor (see ../alerts.ts).
 */
import { Router } from 'express';
import { syslogTime, type AlertLog } from '../alerts';
import { escapeHtml, page } from '../html';
import { currentUser, requireAdmin } from '../web';

/** GET /alerts (admins only). */
export function alertRoutes(log: AlertLog): Router {
  const router = Router();
  router.get('/alerts', requireAdmin, (req, res) => {
    const alerts = log.alerts();
    const lines = log
      .list()
      .map((e) => `<li class="level-${e.level}">${escapeHtml(`${syslogTime(e.time)} Auth.${e.level}: ${e.text}`)}</li>`)
      .join('\n');
    res.type('html').send(
      page(
        { title: 'Alerts and log', user: currentUser(req), active: '/alerts' },
        `<p id="alert-count" class="${alerts.length ? 'message error' : 'message ok'}" role="status">${
          alerts.length ? `${alerts.length} alert${alerts.length === 1 ? '' : 's'} (warnings and errors) in the log below.` : 'No alerts.'
        }</p>
<p class="muted">RADIUS events of this instance, newest first (times in UTC). Passwords, codes, shared secrets and State are never logged.</p>
${lines ? `<ol class="log" id="log" reversed>${lines}</ol>` : '<p class="muted">Nothing yet.</p>'}`,
      ),
    );
  });
  return router;
}

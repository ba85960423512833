/**
 * Server status for administrators: each server's state, counters and last error, and "Test every
 * server", which sends probes and so is a POST (a cross-site link or image must not make an admin's
 * browser send RADIUS traffic; csrf.ts refuses cross-origin POSTs).
 */
import { Router, type Request, type Response } from 'express';
import type { ServerStatus } from '../../lib';
import { escapeHtml, page } from '../html';
import { describeProbe } from '../monitor';
import type { RadiusConsole } from '../radius';
import { currentUser, requireAdmin } from '../web';

type Tested = ReturnType<typeof describeProbe>;

function row(s: ServerStatus, test: Tested | undefined): string {
  const c = s.counters;
  const cells = [
    `${escapeHtml(s.name)}<br><span class="hint">${escapeHtml(s.address)}</span>`,
    s.state === 'up' ? '<span class="state-up">In use</span>' : '<span class="state-down">Held down</span>',
    s.lastRttMs === undefined ? '–' : `${s.lastRttMs.toFixed(1)} ms`,
    `${c.requests} / ${c.accepts} / ${c.rejects} / ${c.challenges} / ${c.timeouts + c.unreachable}`,
    escapeHtml(s.lastError ?? ''),
  ];
  const testCell = test
    ? `<td><span class="test-result ${test.state}">${escapeHtml(test.text)}</span>${test.warnings.map((w) => `<br><span class="hint">${escapeHtml(w)}</span>`).join('')}</td>`
    : '';
  return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}${testCell}</tr>`;
}

/** GET /status and POST /status/test (admins only). */
export function statusRoutes(radius: RadiusConsole): Router {
  const router = Router();
  router.use('/status', requireAdmin);

  const render = (req: Request, res: Response, tests?: Tested[]): void => {
    const servers = radius.strategy.client.serverStatus();
    const head = `<tr><th>Server</th><th>State</th><th>Last round trip</th><th>Requests / accepts / rejects / challenges / no reply</th><th>Last error</th>${tests ? '<th>Test</th>' : ''}</tr>`;
    res.type('html').send(
      page(
        { title: 'Server status', user: currentUser(req), active: '/status' },
        `<div class="table-wrap"><table id="status"><thead>${head}</thead>
<tbody>${servers.map((s, i) => row(s, tests?.[i])).join('\n')}</tbody></table></div>
<form method="post" action="/status/test" class="actions"><button type="submit">Test every server</button></form>
<p class="hint">The test sends each server a Status-Server request (RFC 5997), then an Access-Request for a user name that cannot exist.</p>`,
      ),
    );
  };

  router.get('/status', (req, res) => render(req, res));

  router.post('/status/test', async (req, res, next) => {
    try {
      const client = radius.strategy.client;
      const tests = await Promise.all(client.serverNames.map(async (name) => describeProbe(await client.probe(name))));
      render(req, res, tests);
    } catch (err) {
      next(err);
    }
  });

  return router;
}

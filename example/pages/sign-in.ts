/**
 * Sign-in: the password page, the challenge page ("Enter the code…", Verify), sign-out. Messages are for
 * end users (the strategy's and the RADIUS server's wording is mapped or shown as the server sent it);
 * attempts are throttled per user name and per IP before any RADIUS traffic.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { getChallenge } from '../../lib';
import { escapeHtml, message, page } from '../html';
import type { ExampleUser, RadiusConsole } from '../radius';
import type { SignInThrottle } from '../throttle';
import { currentUser, field, setFlash, takeFlash, type Flash } from '../web';

/** What the strategy says, in words for the person signing in (a RADIUS Reply-Message is shown as sent). */
function forPeople(text: string | undefined, status: number | undefined, step: 'password' | 'code'): string {
  switch (text) {
    case 'Missing credentials':
      return step === 'code' ? 'Enter the code.' : 'Enter your user name and password.';
    case 'Code is too long':
      return 'That code is too long. Enter the code you received.';
    case 'Invalid username or password':
      return 'The user name or password is not right.';
    case 'Invalid code':
      return 'That code was not accepted. Sign in again to get a new code.';
    case 'Too many challenge rounds':
      return 'Too many verification steps. Please sign in again.';
    case 'RADIUS sign-in is not enabled for this account':
      return 'Sign-in is not enabled for your organization. Please contact your administrator.';
    case 'No pending RADIUS challenge':
      return 'Your verification has expired or was already used. Please sign in again.';
    default:
      if (status === 403) return 'Your verification has expired or was already used. Please sign in again.';
      return text ?? (step === 'code' ? 'That code was not accepted.' : 'Sign-in failed.');
  }
}

function loginPage(flash: Flash | undefined, username = ''): string {
  return page(
    { title: 'Sign in', card: true },
    `${message(flash?.kind ?? 'error', flash?.text)}
<form method="post" action="/login">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required autofocus placeholder="name or name@organization" value="${escapeHtml(username)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

/** The sign-in routes. */
export function signInRoutes(radius: RadiusConsole, throttle: SignInThrottle): Router {
  const router = Router();

  router.get('/', (req, res) => res.redirect(303, currentUser(req) ? '/account' : '/login'));

  router.get('/login', (req, res) => {
    res.type('html').send(loginPage(takeFlash(req)));
  });

  /** Runs the strategy for one step, with throttling and messages; success → /account. */
  const step = (kind: 'password' | 'code') => async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const ip = req.ip ?? req.socket.remoteAddress ?? '';
    const username = kind === 'password' ? field(req, 'username') : (getChallenge(req)?.username ?? '');
    try {
      const wait = await throttle.retryAfter(username, ip);
      if (wait > 0) {
        res.set('Retry-After', String(wait));
        const minutes = Math.ceil(wait / 60);
        const text = `Too many sign-in attempts. Please try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
        res.status(429).type('html').send(loginPage({ kind: 'error', text }, kind === 'password' ? username : ''));
        return;
      }
    } catch (err) {
      return next(err);
    }
    // A custom callback: the strategy's redirect to the challenge page (and errors) happen inside.
    const authenticate = radius.passport.authenticate('radius', (err: unknown, user: ExampleUser | false, info: { message?: string } | undefined, status: number | undefined) => {
      if (err) return next(err);
      if (!user) {
        void throttle.failed(username, ip).catch(() => undefined);
        setFlash(req, 'error', forPeople(info?.message, status, kind));
        // A code refused before it was sent (empty, too long) leaves the challenge pending: ask again.
        return res.redirect(303, kind === 'code' && getChallenge(req) ? '/login/challenge' : '/login');
      }
      req.logIn(user, (loginErr) => {
        if (loginErr) return next(loginErr);
        void throttle.succeeded(username).catch(() => undefined);
        res.redirect(303, '/account');
      });
    }) as (req: Request, res: Response, next: NextFunction) => void;
    authenticate(req, res, next);
  };

  router.post('/login', step('password'));

  router.get('/login/challenge', (req, res) => {
    const challenge = getChallenge(req);
    if (!challenge) {
      setFlash(req, 'error', 'Your verification has expired or was already used. Please sign in again.');
      return res.redirect(303, '/login');
    }
    const attempt = challenge.round > 1 ? `<p class="hint">Step ${challenge.round} of at most ${radius.maxChallengeRounds}.</p>` : '';
    const flash = takeFlash(req);
    // Only a server configured with allowEmptyResponse takes an empty response (a push, a poll); for the
    // others the strategy refuses one with 400, so the browser need not send it.
    const emptyAllowed = radius.strategy.client.allowsEmptyResponse(challenge.server);
    res.type('html').send(
      page(
        { title: 'Two-step verification', card: true },
        `${message(flash?.kind ?? 'error', flash?.text)}
<p class="muted">Signing in as <strong id="challenge-user">${escapeHtml(challenge.username)}</strong></p>
<p id="prompt">${escapeHtml(challenge.prompt || 'Enter the code sent via SMS, email, token or app.')}</p>
${attempt}
<form method="post" action="/login/challenge">
<label for="code">Code</label>
<input id="code" name="code" type="${challenge.echo ? 'text' : 'password'}" autocomplete="one-time-code" inputmode="numeric"${emptyAllowed ? ' aria-describedby="empty-hint"' : ' required'} autofocus>
${emptyAllowed ? '<p class="hint" id="empty-hint">Or leave it empty and press Verify to approve the sign-in on your phone.</p>\n' : ''}<button type="submit">Verify</button>
</form>
<p class="hint"><a href="/login">Start again</a></p>`,
      ),
    );
  });

  router.post('/login/challenge', step('code'));

  router.post('/logout', (req, res, next) => {
    // The accounting Stop (RFC 2866, when accounting is on) reads the session: before req.logout() ends it.
    // endSession sends it without waiting for the reply; a failure is an alert, not a failed sign-out.
    radius.strategy.endSession(req).then(
      () => req.logout((err) => (err ? next(err) : res.redirect(303, '/login'))),
      next,
    );
  });

  return router;
}

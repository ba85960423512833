/**
 * Cross-site request forgery protection for the example's forms, without tokens: browsers say where a
 * request comes from (Fetch Metadata `Sec-Fetch-Site`, or failing that `Origin`), and a state-changing
 * request (POST and the like) from another origin is refused with 403.
 *
 * Why this and not a synchronizer token: the sign-in form must work before there is a session, and a
 * token would need one for every visitor of /login (a Redis write per page view when sessions are
 * shared). Every browser in use sends `Sec-Fetch-Site` or `Origin` on a form POST, so the check
 * also stops login CSRF (signing a victim in as the attacker), which SameSite cookies alone do not.
 * The session cookie is also `SameSite=Lax` and `HttpOnly` (defence in depth). This is the algorithm of
 * Go's `net/http.CrossOriginProtection` (Go 1.25).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Options of {@link crossOriginProtection}. */
export interface CrossOriginProtectionOptions {
  /**
   * Origins (`scheme://host[:port]`) also allowed to post, e.g. when a proxy in front of the app
   * rewrites the Host header. Default: none (only the app's own origin, as seen in `Host`).
   */
  trustedOrigins?: string[];
}

/**
 * Express middleware refusing cross-origin state-changing requests with 403 (a short HTML page).
 *
 * - GET, HEAD and OPTIONS always pass (they must not change state).
 * - `Sec-Fetch-Site: same-origin` or `none` (typed in the address bar) passes; any other value
 *   (`same-site`, `cross-site`) is refused, unless `Origin` is one of `trustedOrigins`.
 * - Without `Sec-Fetch-Site`: no `Origin` passes (not a browser form, e.g. curl or a test client);
 *   an `Origin` whose host equals the `Host` header, or listed in `trustedOrigins`, passes; else 403.
 *
 * @throws TypeError when a trusted origin is not a URL origin.
 */
export function crossOriginProtection(options: CrossOriginProtectionOptions = {}): RequestHandler {
  const trusted = new Set(
    (options.trustedOrigins ?? []).map((o) => {
      let url: URL;
      try {
        url = new URL(o);
      } catch {
        throw new TypeError(`trustedOrigins: ${JSON.stringify(o)} is not an origin (scheme://host[:port])`);
      }
      if (url.origin !== o) throw new TypeError(`trustedOrigins: ${JSON.stringify(o)} is not an origin (scheme://host[:port])`);
      return url.origin;
    }),
  );
  return (req: Request, res: Response, next: NextFunction): void => {
    if (SAFE_METHODS.has(req.method)) return next();
    const origin = req.get('origin');
    if (origin !== undefined && trusted.has(origin)) return next();
    const site = req.get('sec-fetch-site');
    if (site !== undefined) {
      if (site === 'same-origin' || site === 'none') return next();
      return refuse(res);
    }
    if (origin === undefined) return next();
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined; // "null" or garbage
    }
    if (host !== undefined && host !== '' && host === req.get('host')) return next();
    return refuse(res);
  };
}

function refuse(res: Response): void {
  res
    .status(403)
    .type('html')
    .send(
      '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Request refused</title></head>\n' +
        '<body><h1>Request refused</h1><p role="alert">This form was sent from another site, so it was not accepted.</p>' +
        '<p><a href="/login">Sign in</a></p></body></html>',
    );
}

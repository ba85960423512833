/**
 * Request helpers shared by the pages: the signed-in user, the guards for signed-in and admin pages, the
 * one-shot messages carried across a redirect (in the session), and form fields read as strings.
 */
import type { NextFunction, Request, Response } from 'express';
import { page } from './html';
import type { ExampleUser } from './radius';

/** A message shown once on the next page. */
export interface Flash {
  kind: 'error' | 'warn' | 'ok';
  text: string;
}

interface FlashSession {
  flash?: Flash;
}

/** The signed-in user, if any. */
export function currentUser(req: Request): ExampleUser | undefined {
  return req.isAuthenticated() ? (req.user as ExampleUser) : undefined;
}

/** Keeps a message for the next page (the session must exist; a redirect usually follows). */
export function setFlash(req: Request, kind: Flash['kind'], text: string): void {
  (req.session as unknown as FlashSession).flash = { kind, text };
}

/** Takes the kept message (once). */
export function takeFlash(req: Request): Flash | undefined {
  const session = req.session as unknown as FlashSession | undefined;
  const flash = session?.flash;
  if (session && flash) delete session.flash;
  return flash;
}

/** A form field as a string ('' when absent or not a string). */
export function field(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** Signed-in pages: anonymous visitors go to the sign-in page. */
export function requireUser(req: Request, res: Response, next: NextFunction): void {
  if (currentUser(req)) return next();
  res.redirect(303, '/login');
}

/** Admin pages: anonymous visitors go to the sign-in page; signed-in non-admins get 403. */
export function requireAdmin(req: Request, res: Response, next: NextFunction): void {
  const user = currentUser(req);
  if (!user) return res.redirect(303, '/login');
  if (user.role === 'admin') return next();
  res
    .status(403)
    .type('html')
    .send(page({ title: 'Administrators only', user }, '<p class="message error" role="alert">This page is for administrators only.</p>'));
}

/** "Saved X." followed by the warning about the admin's own sign-in, if any. */
export function withWarning(text: string, warning: string | undefined): string {
  return warning ? `${text} ${warning}` : text;
}

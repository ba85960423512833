/**
 * Test helper: Debian's stock FreeRADIUS configuration (/etc/freeradius/3.0) with the README's
 * registration changes applied from docs/freeradius/ (the same files the README shows), moved to free
 * loopback ports, run by {@link runFreeRadius}.
 *
 * What it changes, and nothing else:
 * - the README's changes: the client entry appended to clients.conf for 127.0.0.1 and a copy for ::1 (the
 *   stock `client localhost` and `client localhost_ipv6` blocks removed, as the README says: one client per
 *   address, and theirs have the secret testing123), the
 *   signing lines at the top of `authorize`, the two-factor lines at the end of `authorize` and
 *   `authenticate` (sites-enabled/default), the users at the top of mods-config/files/authorize,
 *   mods-enabled/totp, and the totp_used cache module (mods-available/totp_used, linked from mods-enabled);
 * - for the test only: every `listen` section of sites-enabled/default on 127.0.0.1 / ::1 and free ports
 *   (auth and acct), the inner-tunnel listener (fixed port 18120) on a free port; and, when run as root, the
 *   copy owned by the stock directory's owner (freerad), because the stock radiusd.conf switches to that
 *   user before modules read their files.
 */
import { cp, lchown, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filledSnippet, insertIntoSection } from '../../scripts/freeradius-snippets';
import { FreeRadiusStartError, runFreeRadius, type FreeRadiusProcess } from './freeradius';
import { freeUdpPort } from './ports';

/** Where the Debian package keeps its configuration. */
export const STOCK_DIR = process.env.FREERADIUS_STOCK_DIR ?? '/etc/freeradius/3.0';

/** A running stock FreeRADIUS with the README's changes. */
export interface StockFreeRadius extends FreeRadiusProcess {
  /** '127.0.0.1:PORT' of the authentication listener. */
  address: string;
  /** '[::1]:PORT' of the authentication listener. */
  address6: string;
  /** '127.0.0.1:PORT' of the accounting listener. */
  accountingAddress: string;
  secret: string;
  /** The temp copy of /etc/freeradius/3.0 (removed by stop()). */
  dir: string;
}

/** Removes the block `client NAME { … }` (braces balanced, comments ignored) from clients.conf text. */
export function removeClientBlock(config: string, name: string): string {
  const lines = config.split('\n');
  const start = lines.findIndex((line) => line.replace(/#.*/, '').trim() === `client ${name} {`);
  if (start === -1) throw new Error(`no "client ${name} {" block`);
  let depth = 0;
  for (let i = start; i < lines.length; i++) {
    for (const ch of lines[i]!.replace(/#.*/, '')) {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
    }
    if (depth === 0) {
      lines.splice(start, i - start + 1);
      return lines.join('\n');
    }
  }
  throw new Error(`"client ${name}" does not close`);
}

/** Puts each `listen { … }` section of a virtual server on loopback and the port for its type. */
function moveListeners(config: string, ports: { auth: number; acct: number }): string {
  return config.replace(/^listen \{\n[\s\S]*?^\}/gm, (section) => {
    const type = /^\s*type = (\w+)/m.exec(section)?.[1];
    const port = type === 'auth' ? ports.auth : type === 'acct' ? ports.acct : undefined;
    if (port === undefined) throw new Error(`listen section of unexpected type ${String(type)}`);
    return section
      .replace(/^(\s*)ipaddr = \*/m, '$1ipaddr = 127.0.0.1')
      .replace(/^(\s*)ipv6addr = ::(\s)/m, '$1ipv6addr = ::1$2')
      .replace(/^(\s*)port = 0$/m, `$1port = ${port}`);
  });
}

async function edit(file: string, change: (text: string) => string): Promise<void> {
  await writeFile(file, change(await readFile(file, 'utf8')));
}

/** Copies the stock configuration to a temp dir and applies the README's changes (see the module notes). */
export async function writeStockConfig(
  dir: string,
  values: { secret: string; totpSecret: string; authPort: number; acctPort: number; innerPort: number; keepStockLocalhost?: boolean },
): Promise<void> {
  await cp(STOCK_DIR, dir, { recursive: true, verbatimSymlinks: true });

  // README: clients.conf — the stock localhost (127.0.0.1) and localhost_ipv6 (::1) clients removed, the
  // app's client entry for 127.0.0.1, and its second copy for ::1.
  const ipv6Entry = filledSnippet('client', { clientAddress: '::1', secret: values.secret }).replace(
    /^client passport_console \{$/m,
    'client passport_console_ipv6 {',
  );
  await edit(join(dir, 'clients.conf'), (text) => {
    const stock = values.keepStockLocalhost ? text : removeClientBlock(removeClientBlock(text, 'localhost'), 'localhost_ipv6');
    return `${stock}\n${filledSnippet('client', { clientAddress: '127.0.0.1', secret: values.secret })}\n${ipv6Entry}`;
  });
  // README: sites-enabled/default — signing first in authorize, two-factor last in authorize and authenticate.
  await edit(join(dir, 'sites-available', 'default'), (text) => {
    let out = insertIntoSection(text, 'authorize {', filledSnippet('authorizeFirst', {}), 'start');
    out = insertIntoSection(out, 'authorize {', filledSnippet('authorizeLast', {}), 'end');
    out = insertIntoSection(out, 'authenticate {', filledSnippet('authenticate', {}), 'end');
    // Test only: loopback and free ports.
    return moveListeners(out, { auth: values.authPort, acct: values.acctPort });
  });
  // README: the users file.
  await edit(join(dir, 'mods-config', 'files', 'authorize'), (text) => `${filledSnippet('users', { totpSecret: values.totpSecret })}\n${text}`);
  // README: ln -s ../mods-available/totp mods-enabled/totp
  await symlink('../mods-available/totp', join(dir, 'mods-enabled', 'totp'));
  // README: mods-available/totp_used (each code accepted once), linked from mods-enabled.
  await writeFile(join(dir, 'mods-available', 'totp_used'), filledSnippet('totpUsed', {}));
  await symlink('../mods-available/totp_used', join(dir, 'mods-enabled', 'totp_used'));
  // Test only: the inner-tunnel listener's fixed port.
  await edit(join(dir, 'sites-available', 'inner-tunnel'), (text) => {
    if (!/^\s*port = 18120$/m.test(text)) throw new Error('inner-tunnel: no "port = 18120" line');
    return text.replace(/^(\s*)port = 18120$/m, `$1port = ${values.innerPort}`);
  });
  // Test only: as the package owns /etc/freeradius/3.0, so the copy (radiusd.conf: user = freerad).
  if (process.getuid?.() === 0) {
    const owner = await stat(STOCK_DIR);
    await chownTree(dir, owner.uid, owner.gid);
  }
}

/** Gives `dir` and everything in it to `uid`:`gid` (not following symlinks). */
async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await lchown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    await lchown(join(entry.parentPath, entry.name), uid, gid);
  }
}

/** Starts the stock configuration with the README's changes on free ports; retries when a port is taken. */
export async function startStockFreeRadius(values: { secret: string; totpSecret: string; keepStockLocalhost?: boolean }): Promise<StockFreeRadius> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const [authPort, acctPort, innerPort] = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
    if (new Set([authPort, acctPort, innerPort]).size < 3) continue;
    const dir = await mkdtemp(join(tmpdir(), 'passport-radius-stock-'));
    try {
      await writeStockConfig(dir, { ...values, authPort, acctPort, innerPort });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    try {
      const running = await runFreeRadius(dir);
      return {
        ...running,
        address: `127.0.0.1:${authPort}`,
        address6: `[::1]:${authPort}`,
        accountingAddress: `127.0.0.1:${acctPort}`,
        secret: values.secret,
        dir,
      };
    } catch (err) {
      if (!(err instanceof FreeRadiusStartError) || !err.addressInUse) throw err;
      lastError = err;
    }
  }
  throw lastError ?? new Error('could not find free ports for the stock FreeRADIUS');
}

/**
 * Push-aware health against real FreeRADIUS 3.2 (threaded): one user's Access-Accept is held 25 s by an
 * `exec` of sleep (as a push server holds the Access-Request until the user approves on the phone), with a
 * 60 s timeout. That user signs in at that server, another user's sign-in on the same server is answered at
 * once meanwhile, the retransmissions (at 20 s) are the identical bytes FreeRADIUS de-duplicates, the
 * backup is never asked, and nothing is held down.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RadiusClient } from '../lib/client';
import { RadiusTestServer } from '../lib/testing';
import { confString, DICT_DIR, describeFreeRadius, LIB_DIR, runFreeRadius, type FreeRadiusProcess } from './support/freeradius';
import { freeUdpPort } from './support/ports';
import { sleep } from './support/time';

const SECRET = 'push-health-secret';
const PUSH_DELAY_S = 25;

function config(dir: string, port: number): string {
  return `
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = ${dir}
sbindir = /usr/sbin
logdir = ${dir}
raddbdir = ${dir}
radacctdir = ${dir}
name = radiusd
confdir = \${raddbdir}
modconfdir = \${confdir}
run_dir = ${dir}
db_dir = ${dir}
libdir = ${LIB_DIR}
dictdir = ${DICT_DIR}
pidfile = \${run_dir}/\${name}.pid
# The held request must outlive the push delay.
max_request_time = 40
cleanup_delay = 0
max_requests = 1024
hostname_lookups = no
proxy_requests = no
log {
	destination = stdout
	colourise = no
	auth = no
}
security {
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}
client localhost {
	ipaddr = 127.0.0.1
	proto = udp
	secret = ${confString(SECRET)}
	require_message_authenticator = yes
}
# Several threads: the held request must not block the others (as on a real push server).
thread pool {
	start_servers = 4
	max_servers = 8
	min_spare_servers = 2
	max_spare_servers = 8
	max_requests_per_server = 0
}
modules {
	pap {
	}
	always ok {
		rcode = ok
	}
	exec pushwait {
		wait = yes
		program = "/bin/sleep ${PUSH_DELAY_S}"
		input_pairs = request
		shell_escape = yes
		timeout = 30
	}
}
server default {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = ${port}
	}
	authorize {
		update reply {
			&Message-Authenticator := 0x00
		}
		Autz-Type Status-Server {
			ok
		}
		if (&User-Name == "pushy") {
			#  The push: held until the user approves on the phone.
			pushwait
			update control {
				&Cleartext-Password := "pushy-password"
			}
			update reply {
				&Reply-Message := "Push approved"
			}
		}
		elsif (&User-Name == "alice") {
			update control {
				&Cleartext-Password := "alice-password"
			}
		}
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
	}
}
`;
}

describeFreeRadius('Push-aware health against FreeRADIUS (a push held 25 s, timeout 60 s)', function () {
  this.timeout(60_000);
  let fr: FreeRadiusProcess;
  let port: number;
  let backup: RadiusTestServer;
  let client: RadiusClient;

  before(async function () {
    this.timeout(30_000);
    port = await freeUdpPort();
    const dir = await mkdtemp(join(tmpdir(), 'passport-radius-push-'));
    await writeFile(join(dir, 'radiusd.conf'), config(dir, port), { mode: 0o600 });
    fr = await runFreeRadius(dir, { threaded: true });
    backup = new RadiusTestServer({ secret: SECRET, users: { pushy: { password: 'pushy-password' }, alice: { password: 'alice-password' } } });
    await backup.listen();
  });
  after(async () => {
    await client?.close();
    await backup?.close();
    await fr?.stop();
  });

  it('signs the push user in at 25 s while another user is answered at once; nothing is held down, the backup never asked', async () => {
    client = new RadiusClient({
      servers: [
        { name: 'push', address: `127.0.0.1:${port}`, secret: SECRET, attributes: { 'NAS-Identifier': 'push-test' }, timeout: 60_000, retries: 2 },
        { name: 'backup', address: backup.address, secret: SECRET, attributes: { 'NAS-Identifier': 'push-test' } },
      ],
    });
    const events: string[] = [];
    for (const name of ['no-reply', 'failover', 'server-down'] as const) client.on(name, () => events.push(name));
    const transmissions: number[] = [];
    client.on('request', (e) => {
      if (e.username === 'pushy') transmissions.push(e.attempt);
    });

    const started = performance.now();
    const held = client.authenticate({ username: 'pushy', password: 'pushy-password' });
    await sleep(1000);
    const other = await client.authenticate({ username: 'alice', password: 'alice-password' });
    const otherMs = performance.now() - started;
    assert.equal(other.type, 'accept');
    assert.equal(other.server, 'push');
    assert.ok(otherMs < 5000, `the other sign-in took ${otherMs.toFixed(0)} ms`);
    assert.equal(client.serverStatus()[0]!.state, 'up');

    const result = await held;
    const heldMs = performance.now() - started;
    assert.equal(result.type, 'accept');
    assert.equal(result.server, 'push');
    assert.equal(result.replyMessage, 'Push approved');
    assert.ok(heldMs >= PUSH_DELAY_S * 1000 - 500, `answered after ${heldMs.toFixed(0)} ms`);
    // Transmissions at 0 and 20 s (the third would be at 40 s): byte-identical, so FreeRADIUS treats the
    // second as a duplicate of the request it is still processing instead of starting another push.
    assert.deepEqual(transmissions, [1, 2]);
    const log = fr.output();
    assert.equal((log.match(/pushwait: Executing: \/bin\/sleep/g) ?? []).length, 1, 'one push per sign-in');
    assert.match(log, /Ignoring duplicate packet from client localhost .* due to unfinished request/);
    // The watchdog asked while the push was pending, and FreeRADIUS answered it.
    assert.match(log, /Received Status-Server/);
    assert.deepEqual(events, [], 'no timeout, failover or server-down');
    assert.deepEqual(client.serverStatus().map((s) => s.state), ['up', 'up']);
    assert.equal(backup.received.length, 0, 'the backup was never asked');
  });
});

/** Sample option values shared by the option-schema tests. */

/**
 * A valid, non-default value for every server option. A new option in the schema without a sample here
 * fails the first test below: add one, so that the CLI test proves the option reaches it.
 */
export const SERVER_OPTION_SAMPLES: Record<string, unknown> = {
  name: 'every-option',
  address: '127.0.0.1:1812',
  secret: 'sample-secret',
  accountingAddress: '127.0.0.1:1646',
  protocol: 'chap',
  attributes: { 'NAS-Identifier': 'options-test', 'NAS-Port': 7 },
  timeout: 3000,
  retries: 1,
  requireMessageAuthenticator: true,
  final: true,
  passwordEncoding: 'latin1', // alice's password is ASCII: the same bytes either way
  allowEmptyResponse: true,
  // RADIUS over TLS with a PSK (no certificate files needed). The FreeRADIUS test of every option runs
  // over UDP instead; test/radsec.freeradius.test.ts signs in over TLS through --config.
  transport: 'tls',
  tls: { psk: { identity: 'every-option', key: '00112233445566778899aabbccddeeff' } },
};

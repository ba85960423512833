/** Sample option values shared by the option-schema tests. */

/**
 * A valid, non-default value for every server option. A new option in the schema without a sample here
 * fails the first test below: add one, so that the CLI test proves the option reaches it.
 */
export const SERVER_OPTION_SAMPLES: Record<string, unknown> = {
  name: 'every-option',
  address: '127.0.0.1:1812',
  secret: 'sample-secret',
  protocol: 'chap',
  attributes: { 'NAS-Identifier': 'options-test', 'NAS-Port': 7 },
  timeout: 3000,
  retries: 1,
  requireMessageAuthenticator: true,
  final: true,
  // RADIUS over TLS needs certificates made at run time: test/radsec.freeradius.test.ts proves that
  // `transport: 'tls'` and `tls` reach the CLI through --config (with certificate files).
  transport: 'udp',
  tls: undefined,
};

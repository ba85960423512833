/**
 * The benchmark suites, in the order they run and appear in the report. To add one: a file in this folder
 * exporting a `Suite` (see bench/suite.ts), and one line below.
 */
import type { Suite } from '../suite';
import b1 from './b1';
import b1FreeRadius from './b1-freeradius';
import b2 from './b2';
import b3 from './b3';
import profiles from './profiles';
import junk from './junk';
import push from './push';
import tls from './tls';

export const SUITES: readonly Suite[] = [
  b1,
  b1FreeRadius,
  b2,
  b3,
  profiles,
  junk,
  push,
  tls,
];

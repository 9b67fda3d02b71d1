/**
 * sockchan's runnable examples: the manual's time server and client, and the demo that runs both.
 * @packageDocumentation
 */
export { startTimeServer, portFromArgs } from './time-server.js';
export type { Log } from './time-server.js';
export { runTimeClient } from './time-client.js';
export { demo } from './demo.js';
export { clockFormat, clockSeconds } from './clock.js';

// Shared by the @sockchan/server listener rows: announce the port, then serve the harness's
// control protocol (COUNT, GC, MEM, QUIT) on stdin like the raw node:net rows do.
import type { Listener } from '@sockchan/server';
import { serveControl } from './common.js';

/** Starts the control loop and prints `READY <port>` for the listener. */
export function announceListener(listener: Listener, accepted: () => number): void {
  serveControl(null, accepted);
  process.stdout.write(`READY ${listener.port}\n`);
}

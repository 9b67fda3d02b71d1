// idle, raw node:net server: accepts connections and keeps them open, each with the data and
// error handlers a real server would have (idle-servers.ts), so the per-connection cost is a
// realistic one.
import { fail, listenAndAnnounce, parseRowArgs, serveControl } from './common.js';
import { rawIdleServer } from './idle-servers.js';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: net-idle.js server');
let accepted = 0;
const server = rawIdleServer(() => {
  accepted += 1;
});
serveControl(server, () => accepted);
listenAndAnnounce(server, 1024);

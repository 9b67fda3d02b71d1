// bulk, raw node:net (TCP, or a Unix-domain socket): raw-stream.ts's loops over node:net.
import { fail, parseRowArgs } from './common.js';
import { netTransport, runRawClient, serveRaw } from './raw-stream.js';

const args = parseRowArgs();
if (args.role === 'server') serveRaw(netTransport, 'bulk');
else if (args.role === 'client') await runRawClient(args, netTransport, 'bulk');
else fail('usage: net-bulk.js server|client key=value...');

// pingpong, raw node:net (TCP, or a Unix-domain socket): raw-stream.ts's loops over node:net.
import { fail, parseRowArgs } from './common.js';
import { netTransport, runRawClient, serveRaw } from './raw-stream.js';

const args = parseRowArgs();
if (args.role === 'server') serveRaw(netTransport, 'pingpong');
else if (args.role === 'client') await runRawClient(args, netTransport, 'pingpong');
else fail('usage: net-pingpong.js server|client key=value...');

// accept behind a load balancer: sockchan-accept.ts with `proxyProtocol` on, the load generator
// sending a PROXY v2 header (TCP over IPv4, 28 bytes) first on every connection
// (SOCKCHAN_BENCH_PROXY=v2). The callback sees each header read and the connection closed.
import { fail, parseRowArgs } from './common.js';
import { sockchanServer } from './sockchan-common.js';

const args = parseRowArgs();
if (args.role !== 'server') fail('usage: sockchan-accept-proxy.js server');
await sockchanServer((chan) => chan.close(), 1024, { proxyProtocol: { from: ['127.0.0.1'] } });

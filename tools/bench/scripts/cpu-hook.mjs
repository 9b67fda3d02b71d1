// Preloaded into a benchmark child (`node --import ./cpu-hook.mjs row.mjs ...`) by core-cpu.mjs: counts
// the process's CPU time (user + system) from its first socket (connect or accept, seen through
// node:net's diagnostics channels, so start-up and module loading are not counted) and prints
// `CPU <µs>` (tls.connect counts as a connect) on stderr at exit (clients) or on SIGUSR2 (servers, which the driver then kills).
import dc from 'node:diagnostics_channel';
import { syncBuiltinESMExports } from 'node:module';
import process from 'node:process';
import tls from 'node:tls';

let base;
function mark() {
  base ??= process.cpuUsage();
}
dc.subscribe('net.client.socket', mark);
dc.subscribe('net.server.socket', mark);
// tls.connect(host, port) makes its socket without net.connect: no diagnostics message.
const tlsConnect = tls.connect;
tls.connect = function connect(...args) {
  mark();
  return tlsConnect.apply(this, args);
};
// Named imports (`import { connect } from 'node:tls'`, as @sockchan/tls's connectClient has it)
// see the wrapper too.
syncBuiltinESMExports();
function report() {
  const d = process.cpuUsage(base);
  process.stderr.write(`CPU ${base === undefined ? -1 : d.user + d.system}\n`);
}
process.on('exit', report);
process.on('SIGUSR2', report);

import type { Readable, Writable } from 'node:stream';
import { socket, tls } from 'sockchan';
import type { AddressTriple, Channel, SocketChannel } from 'sockchan';
import { parseCommandLine } from './args.js';
import type { ChannelFlags, ClientCommand, ServerCommand } from './args.js';
import { formatClock } from './clock.js';
import { HELP_TEXT } from './help.js';
import { StdoutSink, channelSink, startCopy, stdinChannel } from './stdio.js';

/** Exit statuses of the `sockchan` command. */
export const EXIT = {
  /** Done: the peer closed (client), or stopped cleanly. */
  ok: 0,
  /** A connection or I/O error (the message is on stderr). */
  failure: 1,
  /** A bad command line. */
  usage: 2,
  /** Interrupted by SIGINT (Ctrl-C): 128 + 2. */
  interrupted: 130,
  /** Terminated by SIGTERM: 128 + 15. */
  terminated: 143,
} as const;

/** Where `main` reads and writes, and what stops it. */
export interface CliIo {
  /** The data to send (client), normally `process.stdin`. */
  readonly stdin: Readable;
  /** Received data, normally `process.stdout`. */
  readonly stdout: Writable;
  /** Messages, normally `process.stderr`. */
  readonly stderr: Writable;
  /**
   * Stops the command cleanly (everything is closed). `main` then resolves with `signal.reason`
   * when it is a number (the bin passes 130 for SIGINT, 143 for SIGTERM), else 130.
   */
  readonly signal?: AbortSignal;
  /** The version printed by `--version`. */
  readonly version?: string;
}

/**
 * Runs the `sockchan` command with the words after its name and resolves with its exit status.
 * Errors are printed on `io.stderr` as one line, `sockchan: ` then Tcl's text.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let command;
  try {
    command = parseCommandLine(argv);
  } catch (err) {
    io.stderr.write(`sockchan: ${messageOf(err)}\n`);
    return EXIT.usage;
  }
  if (command.mode === 'help') {
    io.stdout.write(HELP_TEXT);
    return EXIT.ok;
  }
  if (command.mode === 'version') {
    io.stdout.write(`${io.version ?? 'unknown'}\n`);
    return EXIT.ok;
  }
  const stop = stopper(io.signal);
  try {
    if (command.mode === 'client') return await runClient(command, io, stop);
    return await runServer(command, io, stop);
  } finally {
    stop.dispose();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Stopper {
  /** Resolves with the exit status once the signal fires. */
  readonly stopped: Promise<number>;
  readonly isStopped: () => boolean;
  readonly dispose: () => void;
}

function stopper(signal: AbortSignal | undefined): Stopper {
  let fired = false;
  let resolveStopped: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });
  const onAbort = (): void => {
    fired = true;
    resolveStopped(typeof signal?.reason === 'number' ? signal.reason : EXIT.interrupted);
  };
  if (signal?.aborted === true) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return { stopped, isStopped: () => fired, dispose: () => signal?.removeEventListener('abort', onAbort) };
}

/** The socket's options from the command line, applied in the order given (as `chan configure`). */
function applyFlags(chan: Channel, flags: ChannelFlags): void {
  const settings: Record<string, unknown> = {};
  for (const key of Object.keys(flags)) {
    if (key === 'encoding' && flags.encoding !== undefined) settings['encoding'] = flags.encoding;
    if (key === 'buffering' && flags.buffering !== undefined) settings['buffering'] = flags.buffering;
    if (key === 'translation' && flags.translation !== undefined) {
      settings['translation'] = [flags.translation[0] ?? '', flags.translation[1] ?? ''];
    }
  }
  if (Object.keys(settings).length > 0) chan.configure(settings);
}

/** Closes a channel without waiting on a peer that does not read: queued bytes still go out. */
async function closeQuietly(chan: Channel): Promise<void> {
  try {
    chan.configure({ blocking: false });
  } catch {
    // Closed already.
  }
  await chan.close().catch(() => undefined);
}

async function runClient(cmd: ClientCommand, io: CliIo, stop: Stopper): Promise<number> {
  const local = {
    // The CLI never shows host names: no reverse lookups.
    reverseLookup: false,
    ...(cmd.myaddr === undefined ? {} : { myaddr: cmd.myaddr }),
    ...(cmd.myport === undefined ? {} : { myport: cmd.myport }),
  };
  // Ctrl-C during a blocking connect cancels it.
  const abort = new AbortController();
  void stop.stopped.then(() => abort.abort());
  let chan: SocketChannel;
  try {
    if (cmd.unix !== undefined) {
      chan = cmd.async
        ? socket.unix(cmd.unix, { async: true, signal: abort.signal })
        : await socket.unix(cmd.unix, { signal: abort.signal });
    } else if (cmd.tls !== undefined) {
      chan = cmd.async
        ? tls.socket(cmd.host, cmd.port, { ...local, ...cmd.tls, async: true, signal: abort.signal })
        : await tls.socket(cmd.host, cmd.port, { ...local, ...cmd.tls, signal: abort.signal });
    } else {
      chan = cmd.async
        ? socket(cmd.host, cmd.port, { ...local, async: true, signal: abort.signal })
        : await socket(cmd.host, cmd.port, { ...local, signal: abort.signal });
    }
  } catch (err) {
    if (stop.isStopped()) return stop.stopped;
    io.stderr.write(`sockchan: ${messageOf(err)}\n`);
    return EXIT.failure;
  }
  applyFlags(chan, cmd);
  const rawUp = cmd.translation?.[1] === 'binary';
  const rawDown = cmd.translation?.[0] === 'binary';
  const stdin = stdinChannel(io.stdin, rawUp);
  const up = startCopy(stdin, channelSink(chan), rawUp);
  const down = startCopy(chan, new StdoutSink(io.stdout), rawDown);

  // An async connect that failed: Tcl's `-error` says why (read once: reading clears it).
  let connectError: string | undefined;
  const failedConnect = (): string | undefined => {
    if (connectError === undefined && cmd.async) {
      try {
        const text = chan.configure('error');
        if (typeof text === 'string' && text !== '') connectError = text;
      } catch {
        // Closed already.
      }
    }
    return connectError;
  };

  return new Promise<number>((resolve) => {
    let finished = false;
    const end = (code: number, err?: unknown): void => {
      if (finished) return;
      finished = true;
      up.stop();
      down.stop();
      if (err !== undefined) {
        const refused = failedConnect();
        io.stderr.write(`sockchan: ${refused === undefined ? messageOf(err) : `couldn't open socket: ${refused}`}\n`);
      }
      void Promise.all([closeQuietly(chan), closeQuietly(stdin)]).then(() => resolve(code));
    };
    if (cmd.async) {
      // Fires once the connect succeeded or failed.
      chan.onWritable(() => {
        chan.onWritable(null);
        const refused = failedConnect();
        if (refused !== undefined) end(EXIT.failure, refused);
      });
    }
    // End of stdin: half-close, then wait for the peer to close its side.
    up.done.then(
      () => chan.close('write'),
      (err: unknown) => end(EXIT.failure, err),
    ).catch((err: unknown) => end(EXIT.failure, err));
    down.done.then(
      () => end(EXIT.ok),
      (err: unknown) => end(EXIT.failure, err),
    );
    void stop.stopped.then((code) => end(code));
  });
}

/** `sockchan: listening on 0.0.0.0 port 9900, :: port 9900` (a Unix socket: `listening on /run/x.sock`). */
function listeningLine(sockname: unknown, unix: boolean): string {
  const triples = (Array.isArray(sockname) ? sockname : []) as AddressTriple[];
  return `sockchan: listening on ${triples.map(([address, , port]) => (unix ? address : `${address} port ${port}`)).join(', ')}`;
}

async function runServer(cmd: ServerCommand, io: CliIo, stop: Stopper): Promise<number> {
  const open = new Set<SocketChannel>();
  const stdout = new StdoutSink(io.stdout);
  const startSeconds = Math.floor(Date.now() / 1000);
  const rawDown = cmd.translation?.[0] === 'binary';

  const serve = async (chan: SocketChannel, clientAddr: string): Promise<void> => {
    applyFlags(chan, cmd);
    if (cmd.kind === 'echo') {
      for await (const line of chan) {
        await chan.puts(line);
        // Answer a burst of lines in one write, and each interactive line at once.
        if (chan.pending('input') === 0) await chan.flush();
      }
    } else if (cmd.kind === 'cat') {
      const copy = startCopy(chan, stdout, rawDown);
      await copy.done;
    } else {
      // The manual's time server.
      await stdout.write(`Connection from ${clientAddr} registered\n`);
      const now = Math.floor(Date.now() / 1000);
      await chan.puts(formatClock(new Date(now * 1000)));
      await chan.puts(`${now - startSeconds} since start`);
    }
  };

  let server;
  const accept = (chan: SocketChannel, clientAddr: string): Promise<void> => {
    open.add(chan);
    return serve(chan, clientAddr).finally(async () => {
      open.delete(chan);
      await chan.close();
    });
  };
  const options = {
    ...(cmd.myaddr === undefined ? {} : { myaddr: cmd.myaddr }),
    reverseLookup: false,
    // One connection's failure (a failed TLS handshake too) is reported and closes that
    // connection only (Tcl's bgerror).
    onError: (err: unknown) => {
      if (!stop.isStopped()) io.stderr.write(`sockchan: ${messageOf(err)}\n`);
    },
  };
  try {
    server =
      cmd.unix !== undefined
        ? await socket.unixServer(accept, cmd.unix, { onError: options.onError })
        : cmd.tls === undefined
          ? await socket.server(accept, cmd.port, { ...options, ...(cmd.proxyFrom === undefined ? {} : { proxyProtocol: { from: cmd.proxyFrom } }) })
          : await tls.server(accept, cmd.port, { ...options, ...cmd.tls });
  } catch (err) {
    io.stderr.write(`sockchan: ${messageOf(err)}\n`);
    return EXIT.failure;
  }
  io.stderr.write(`${listeningLine(server.configure('sockname'), cmd.unix !== undefined)}\n`);
  const code = await stop.stopped;
  await server.close();
  await Promise.all([...open].map((chan) => closeQuietly(chan)));
  return code;
}

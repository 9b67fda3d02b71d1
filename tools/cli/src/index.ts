/**
 * `@sockchan/cli`: the `sockchan` command, Tcl's `socket` syntax at the shell. The bin is
 * `dist/cli.js`; this entry point exposes the same command as functions, for tests and for tools
 * that embed it.
 *
 * ```sh
 * sockchan -server echo 7777 &
 * printf 'hello\n' | sockchan localhost 7777
 * ```
 *
 * @packageDocumentation
 */
export { main, EXIT } from './main.js';
export type { CliIo } from './main.js';
export { parseCommandLine, SERVER_KINDS, WRONG_ARGS } from './args.js';
export type { ChannelFlags, ClientCommand, Command, HelpCommand, ServerCommand, VersionCommand, ServerKind } from './args.js';
export { formatClock } from './clock.js';
export { HELP_TEXT } from './help.js';
export { StdoutSink, channelSink, startCopy, stdinChannel } from './stdio.js';
export type { Copy, Sink } from './stdio.js';

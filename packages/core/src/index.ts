/**
 * @sockchan/core: Tcl channels over any Node stream. `Channel` gives Tcl's gets, read, puts,
 * flush, close (and half-close), eof, fblocked, chan pending, fconfigure and fileevent semantics
 * over a `Duplex`; the pure input/output layers and the option parsers are exported for drivers
 * and tests.
 *
 * @packageDocumentation
 */
export { Channel, DEFAULT_MAX_LINE, channelNames, nextChannelName } from './channel.js';
export type { ChannelConstructorOptions, ChannelEventHandler, DriverOptionSpec } from './channel.js';
export {
  GENERIC_OPTION_NAMES,
  MAX_BUFFER_SIZE,
  badOptionError,
  matchGenericOption,
  optionWord,
  parseBlocking,
  parseBuffering,
  parseBuffersize,
  parseEofcharValue,
  parseEofcharWord,
  parseMaxLine,
  parseProfile,
  parseTranslationWord,
  splitTranslationValue,
} from './options.js';
export type {
  Buffering,
  ChannelOptions,
  ChannelProfile,
  ChannelSettings,
  GenericOptionName,
  InputTranslation,
  OutputTranslation,
  Translation,
} from './options.js';
export { InputBuffer } from './input.js';
export type { LineResult, StreamDecoder } from './input.js';
export { OutputBuffer } from './output.js';
export type { StreamEncoder } from './output.js';
export { splitTclList, tclListElement } from './tcl-list.js';

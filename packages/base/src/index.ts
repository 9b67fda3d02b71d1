/**
 * `@sockchan/base`: what every sockchan package shares. The error type, Tcl's errno texts,
 * Tcl's port, integer and boolean parsing, the address triple, and the process's reverse lookups.
 * @packageDocumentation
 */
export { SockchanError, isSockchanError } from './errors.js';
export type { SockchanErrorCode, SockchanErrorOptions } from './errors.js';
export { errnoText, errnoCodeOf, posixError, toSockchanError, resolverText } from './errno.js';
export {
  tryParseTclInteger,
  valueText,
  parseTclInteger,
  parseTclBoolean,
  notAnInteger,
  badDirection,
  formatChoices,
  matchUniquePrefix,
} from './values.js';
export { parsePort, lookupTcpService, setServicesPath } from './port.js';
export type { ParsePortOptions } from './port.js';
export { addressFamily, stripBrackets, displayAddress } from './address.js';
export type { AddressTriple } from './address.js';
export { ReverseNames, reverseNames, setReverseLookup } from './reverse.js';
export type { ReverseLookup, ReverseNamesOptions, ReverseNamesStats } from './reverse.js';
export { checkUnixPath, UNIX_PATH_MAX } from './unix-path.js';
export type { UnixSocketAddress } from './unix-path.js';
export { descriptorOf, readNow, writeNow } from './descriptor-io.js';

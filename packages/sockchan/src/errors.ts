import { SockchanError, valueText } from '@sockchan/base';

/**
 * Tcl's text and errorCode for a bad `close` direction (`Tcl_GetIndexFromObj`).
 * @internal
 */
export function badDirection(direction: unknown): SockchanError {
  const word = valueText(direction);
  return new SockchanError(`bad direction "${word}": must be read or write`, {
    code: 'ERR_SOCKCHAN_ARGS',
    errorCode: ['TCL', 'LOOKUP', 'INDEX', 'direction', word],
  });
}

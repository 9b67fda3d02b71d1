/**
 * Errors of the test fixtures themselves. They are not library failures (those are
 * `SockchanError`s from @sockchan/base); a fixture that cannot do its job must fail the test
 * loudly with a message that says what to install or fix, never skip silently.
 */

/** Codes of {@link TestSupportError}. */
export type TestSupportErrorCode =
  | 'ERR_TEST_SUPPORT_MISSING_TOOL' // tclsh, ip, nft or the names wrapper is not installed
  | 'ERR_TEST_SUPPORT_NOT_ROOT' // network namespaces need root
  | 'ERR_TEST_SUPPORT_NO_TEST_NAMES' // not running under with-test-names
  | 'ERR_TEST_SUPPORT_TIMEOUT' // a child or an expected output did not arrive in time
  | 'ERR_TEST_SUPPORT_COMMAND_FAILED' // a setup command exited non-zero
  | 'ERR_TEST_SUPPORT_EXITED' // a peer process exited before doing what was expected
  | 'ERR_TEST_SUPPORT_DISPOSED' // use of a fixture after dispose()
  | 'ERR_TEST_SUPPORT_BAD_ARGUMENT';

/** A test fixture could not set up, run or tear down what a test asked for. */
export class TestSupportError extends Error {
  /** What went wrong, machine-readable. */
  readonly code: TestSupportErrorCode;

  constructor(message: string, code: TestSupportErrorCode, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
  }

  /** Always `'TestSupportError'`. */
  override get name(): string {
    return 'TestSupportError';
  }
}

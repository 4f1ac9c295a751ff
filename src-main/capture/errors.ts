/**
 * The one error type of the capture package: a one-line message that names the file, tool or kernel
 * and says what was expected. The CLI prints it as `kptrscope: <message>` and exits 1.
 */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
}

/** Thrown when SIGINT/SIGTERM stopped a capture; the guest has been killed when it is thrown. */
export class CaptureAborted extends Error {
  override readonly name = 'CaptureAborted';
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}: guest stopped`);
  }
}

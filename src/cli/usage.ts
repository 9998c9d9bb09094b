/** A mistake on the command line: main prints the message (and the usage) and exits 1. */
export class UsageError extends Error {
  override name = "UsageError";
}

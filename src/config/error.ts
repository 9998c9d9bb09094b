/**
 * A setting the service cannot start with. The message begins with the variable's
 * name and says what to set; server.ts prints it alone, without a stack.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

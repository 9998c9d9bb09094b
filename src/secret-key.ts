import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Development only: without SECRET_KEY, one is generated once and kept in the
 * data directory, so codes issued before a restart still check after it.
 */
export async function loadOrCreateSecretKey(dataDir: string): Promise<{ key: string; created: boolean }> {
  const path = join(dataDir, "secret.key");
  try {
    const key = (await readFile(path, "utf8")).trim();
    if (key.length >= 32) return { key, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32).toString("hex");
  // wx: two instances starting at once must not each write their own key.
  try {
    await writeFile(path, `${key}\n`, { mode: 0o600, flag: "wx" });
    return { key, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return { key: (await readFile(path, "utf8")).trim(), created: false };
  }
}

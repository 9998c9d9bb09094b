import { open, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";

/**
 * An exclusive lock on a data directory, held as a file with our pid in it.
 * A lock left by a dead process is taken over; a live one refuses the start.
 */
const heldHere = new Set<string>();

export async function acquireDirLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, "lock");
  if (heldHere.has(path)) {
    throw new Error(`DATA_DIR ${dir} is in use by this process already; give each instance its own DATA_DIR`);
  }
  for (let tries = 0; tries < 2; tries++) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      heldHere.add(path);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        heldHere.delete(path);
        await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
      // Our own pid in a lock we do not hold is a leftover: a container restarts as pid 1 again.
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `DATA_DIR ${dir} is in use by another voice-otp process (pid ${holder}); stop it or set a different DATA_DIR`,
        );
      }
      await unlink(path).catch(() => {});
    }
  }
  throw new Error(`could not lock DATA_DIR ${dir}; remove ${path} if no voice-otp is running`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, readFileSync, realpathSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * The builds the benchmark runs: the current tree's, and with `--against REV` that
 * revision's too, checked out in a worktree of its own under bench/tmp/ (ignored by
 * git) with this tree's node_modules, compiled with its own tsconfig.build.json into
 * its own dist/. Its drizzle/ folder sits next to that dist/, so its service applies
 * its own migrations to the database it is given.
 */

/** Commands still running, with the signal that stops each. */
const running = new Map<ChildProcess, NodeJS.Signals>();

/** Runs a command to its end; rejects with its output when it fails. */
function exec(cmd: string, args: string[], cwd: string, opts: { inherit?: boolean; stopWith?: NodeJS.Signals } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // A process group of its own: tsc's bin is a node wrapper around the compiler's own
    // process, and stopping the wrapper alone would leave the compiler running.
    const child = spawn(cmd, args, { cwd, detached: true, stdio: ["ignore", opts.inherit ? "inherit" : "pipe", opts.inherit ? "inherit" : "pipe"] });
    running.set(child, opts.stopWith ?? "SIGTERM");
    let out = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      running.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(" ")} (in ${cwd}) ended with ${signal ?? code}${out.trim() ? `: ${out.trim()}` : ""}`));
    });
  });
}

/** Stops the builds and git commands still running (on SIGINT). */
export function stopCommands() {
  for (const [child, signal] of running) {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Compiles the tree at dir with its tsconfig.build.json into outDir. */
export async function build(dir: string, outDir: string): Promise<void> {
  await exec(process.execPath, [join(dir, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", outDir, "--declaration", "false"], dir, {
    inherit: true,
    // The compiler's own process does not stop on SIGTERM; it has nothing to lose.
    stopWith: "SIGKILL",
  });
}

/** The node flags of a tree's Dockerfile CMD (`node <flags> dist/server.js`): its service runs as its image runs it. */
export function imageNodeFlags(dir: string): string[] {
  const dockerfile = readFileSync(join(dir, "Dockerfile"), "utf8");
  const cmd = [...dockerfile.matchAll(/^CMD\s+(\[.*\])\s*$/gm)].at(-1)?.[1];
  const args = cmd ? (JSON.parse(cmd) as string[]) : [];
  if (args[0] !== "node" || !args.at(-1)?.endsWith(".js")) throw new Error(`${dir}/Dockerfile's CMD is not \`node … script.js\`: ${cmd}`);
  return args.slice(1, -1);
}

export interface Checkout {
  /** As given on the command line, and the commit it names. */
  rev: string;
  sha: string;
  dir: string;
}

/** Worktrees made by checkOut, removed by removeCheckouts (registered before they are made). */
const checkouts = new Map<string, () => Promise<void>>();

/** Checks rev out in bench/tmp/against-<sha> (a detached worktree) with root's node_modules. */
export async function checkOut(root: string, rev: string): Promise<Checkout> {
  const sha = (await exec("git", ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], root).catch(() => "")).trim();
  if (!sha) throw new Error(`--against ${rev}: not a commit of this repository`);
  const dir = join(root, "bench", "tmp", `against-${sha.slice(0, 7)}`);
  const remove = async () => {
    // The link first, so that nothing below can reach into the shared node_modules.
    if (lstatSync(join(dir, "node_modules"), { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(join(dir, "node_modules"));
    await exec("git", ["worktree", "remove", "--force", dir], root).catch(() => {});
    // Not registered (or git refused): the folder alone.
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  };
  await remove(); // left over by a run that was killed before its clean-up
  checkouts.set(dir, remove);
  await exec("git", ["worktree", "add", "--detach", dir, sha], root);
  symlinkSync(realpathSync(join(root, "node_modules")), join(dir, "node_modules"));
  return { rev, sha, dir };
}

/** Removes every worktree checkOut made. */
export async function removeCheckouts(): Promise<void> {
  for (const [dir, remove] of checkouts) {
    await remove().catch((err: Error) => console.error(`could not remove ${dir}: ${err.message}`));
    checkouts.delete(dir);
  }
}

import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/process.js";

/**
 * No Docker engine runs where this is developed, so the Dockerfile is interpreted
 * instead: each stage is replayed in its own temporary directory (its "root"), COPY
 * by COPY and RUN by RUN, with real `npm ci` runs; then the runtime stage's CMD is
 * started there with the image's ENV. What this cannot show: the base image itself,
 * the `node` user and file ownership, Docker's networking and signal delivery.
 */

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  image: string;
  steps: Instruction[];
}
interface Built {
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  /** chown claims from RUN lines: image path → user. */
  owners: Map<string, string>;
  volumes: string[];
  exposed: string[];
  healthcheck?: string[];
  cmd?: string[];
}

function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (!line && !pending)) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    logical.push(pending + line);
    pending = "";
  }
  const stages: Stage[] = [];
  for (const l of logical) {
    const [, op, args] = /^(\S+)\s+(.*)$/s.exec(l)!;
    if (op!.toUpperCase() === "FROM") {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!.trim())!;
      stages.push({ image: image!, name: name ?? String(stages.length), steps: [] });
    } else {
      stages.at(-1)!.steps.push({ op: op!.toUpperCase(), args: args!.trim() });
    }
  }
  return stages;
}

/** .dockerignore: last matching pattern wins; a pattern matching a directory covers its contents. */
function dockerignore(text: string): (rel: string) => boolean {
  const rules = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, "");
      return { negate, re: globToRegExp(pattern) };
    });
  return (rel) => {
    const parts = rel.split("/");
    let ignored = false;
    for (const { negate, re } of rules) {
      if (parts.some((_, i) => re.test(parts.slice(0, i + 1).join("/")))) ignored = !negate;
    }
    return ignored;
  };
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    if (glob.startsWith("**/", i)) (re += "(?:.*/)?"), (i += 2);
    else if (glob.startsWith("**", i)) (re += ".*"), (i += 1);
    else if (glob[i] === "*") re += "[^/]*";
    else if (glob[i] === "?") re += "[^/]";
    else re += glob[i]!.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function jsonArray(args: string, what: string): string[] {
  // Exec form only: the shell form would put /bin/sh as PID 1 between Docker and node.
  expect(args.startsWith("["), `${what} must use the JSON exec form`).toBe(true);
  const argv = JSON.parse(args) as unknown;
  expect(Array.isArray(argv) && argv.every((a) => typeof a === "string")).toBe(true);
  return argv as string[];
}

function parseEnv(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (!/^\w+=/.test(args)) {
    const [, k, v] = /^(\w+)\s+(.*)$/.exec(args)!;
    return { [k!]: v! };
  }
  for (const m of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1");
  return env;
}

/** A clean environment for child processes, keeping what reaching the registry may need. */
function hostEnv(): Record<string, string> {
  const keep = /^(PATH|HOME|https?_proxy|no_proxy|npm_config_(registry|cache|userconfig))$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([k, v]) => keep.test(k) && v !== undefined)) as Record<string, string>;
}

function run(argv: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output }));
  });
}

class Interpreter {
  readonly built = new Map<string, Promise<Built>>();
  readonly ignored: (rel: string) => boolean;
  readonly ran: string[] = [];
  readonly skipped: string[] = [];

  constructor(
    readonly stages: Stage[],
    ignoreText: string,
    readonly tmp: string,
  ) {
    this.ignored = dockerignore(ignoreText);
  }

  build(name: string): Promise<Built> {
    if (!this.built.has(name)) {
      const stage = this.stages.find((s) => s.name === name);
      if (!stage) throw new Error(`COPY --from=${name}: no such stage`);
      this.built.set(name, this.replay(stage));
    }
    return this.built.get(name)!;
  }

  private async replay(stage: Stage): Promise<Built> {
    expect(this.stages.some((s) => s.name === stage.image), `FROM ${stage.image}: stages on stages are not emulated`).toBe(false);
    const root = join(this.tmp, `stage-${stage.name}`);
    await mkdir(root, { recursive: true });
    const b: Built = { root, workdir: "/", env: {}, owners: new Map(), volumes: [], exposed: [] };
    const at = (p: string) => join(root, p.startsWith("/") ? p : join(b.workdir, p));
    // Like BuildKit, the stages a COPY --from needs are built first, side by side.
    await Promise.all(stage.steps.flatMap((s) => /--from=(\S+)/.exec(s.args)?.[1] ?? []).map((n) => this.build(n)));
    for (const { op, args } of stage.steps) {
      if (op === "WORKDIR") {
        b.workdir = args.startsWith("/") ? args : join(b.workdir, args);
        await mkdir(at(b.workdir), { recursive: true });
      } else if (op === "ENV") Object.assign(b.env, parseEnv(args));
      else if (op === "COPY") await this.copy(args, at);
      else if (op === "RUN") for (const cmd of args.split("&&")) await this.runStep(cmd.trim(), b, at);
      else if (op === "USER") b.user = args;
      else if (op === "EXPOSE") b.exposed.push(...args.split(/\s+/));
      else if (op === "VOLUME") b.volumes.push(...(args.startsWith("[") ? (JSON.parse(args) as string[]) : args.split(/\s+/)));
      else if (op === "CMD") b.cmd = jsonArray(args, "CMD");
      else if (op === "HEALTHCHECK") b.healthcheck = jsonArray(/^(?:--\S+\s+)*CMD\s+(.*)$/s.exec(args)![1]!, "HEALTHCHECK CMD");
      else throw new Error(`${op} is not emulated by this test; teach it what the instruction does`);
    }
    return b;
  }

  private async copy(args: string, at: (p: string) => string) {
    const words = args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith("--"));
    const [dest, ...sources] = words.filter((w) => !w.startsWith("--")).reverse();
    sources.reverse();
    const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
    const base = from ? (await this.build(from)).root : ROOT;
    const inContext = (p: string) => relative(ROOT, p).split("\\").join("/");
    const filter = (p: string) => from !== undefined || p === ROOT || !this.ignored(inContext(p));
    const intoDir = dest!.endsWith("/") || sources.length > 1;
    for (const source of sources) {
      const pattern = join(base, source);
      const matches = /[*?]/.test(basename(pattern))
        ? (await readdir(dirname(pattern))).filter((f) => globToRegExp(basename(pattern)).test(f)).map((f) => join(dirname(pattern), f))
        : existsSync(pattern) ? [pattern] : [];
      const usable = matches.filter(filter);
      expect(usable, `COPY ${from ? `--from=${from} ` : ""}${source}: nothing to copy (missing or excluded by .dockerignore)`).not.toHaveLength(0);
      for (const src of usable) {
        const isDir = (await stat(src)).isDirectory();
        const target = intoDir && !isDir ? join(at(dest!), basename(src)) : at(dest!);
        await cp(src, target, { recursive: true, verbatimSymlinks: true, filter });
      }
    }
  }

  /** The RUN commands this Dockerfile uses; anything else fails rather than being guessed at. */
  private async runStep(cmd: string, b: Built, at: (p: string) => string) {
    let m: RegExpExecArray | null;
    if ((m = /^npm (ci|run)\b(.*)$/.exec(cmd))) {
      const argv = ["npm", m[1]!, ...m[2]!.trim().split(/\s+/).filter(Boolean), ...(m[1] === "ci" ? ["--prefer-offline"] : [])];
      const r = await run(argv, at(b.workdir), { ...hostEnv(), CI: "true", ...b.env });
      expect(r.code, `${argv.join(" ")} failed:\n${r.output}`).toBe(0);
      this.ran.push(argv.join(" "));
    } else if (/^npm cache clean --force$/.test(cmd)) {
      // Shrinks the image layer; here it would empty the developer's own npm cache.
      this.skipped.push(cmd);
    } else if ((m = /^mkdir -p((?:\s+\/\S+)+)$/.exec(cmd))) {
      for (const p of m[1]!.trim().split(/\s+/)) await mkdir(at(p), { recursive: true });
    } else if ((m = /^chown (\w+)(?::\w+)?((?:\s+\/\S+)+)$/.exec(cmd))) {
      for (const p of m[2]!.trim().split(/\s+/)) b.owners.set(p, m[1]!);
    } else {
      throw new Error(`RUN ${cmd}: not emulated by this test; teach it what the command does`);
    }
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe("the Docker image, replayed without Docker", () => {
  let tmp: string;
  let stages: Stage[];
  let interp: Interpreter;
  let image: Built;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "voice-otp-docker-"));
    stages = parseDockerfile(await readFile(join(ROOT, "Dockerfile"), "utf8"));
    interp = new Interpreter(stages, await readFile(join(ROOT, ".dockerignore"), "utf8"), tmp);
    const t0 = Date.now();
    image = await interp.build(stages.at(-1)!.name);
    timings.stages = Date.now() - t0;
  }, 300_000);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    if (Object.keys(timings).length) console.log(`docker-runtime timings (ms): ${JSON.stringify(timings)}`);
    // Two installed dependency trees: on a busy machine removing them can take most of a minute.
  }, 240_000);

  it("has a build stage, a production-dependencies stage and a Node 20 runtime that runs as a non-root user", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const runtime = stages.at(-1)!;
    expect(runtime.image).toMatch(/^node:20[.-]/);
    expect(Number(/^node:(\d+)/.exec(runtime.image)![1])).toBe(Number(process.versions.node.split(".")[0]));
    expect(image.user).toBeDefined();
    expect(image.user).not.toMatch(/^(root|0)(:|$)/);
    expect(image.exposed).toContain("3000");
    expect(image.env.PORT).toBe("3000");
    expect(image.env.NODE_ENV).toBe("production");
    // The only place the service writes is a volume the service user owns.
    expect(image.env.DATA_DIR).toBeDefined();
    expect(image.volumes).toContain(image.env.DATA_DIR);
    expect(image.owners.get(image.env.DATA_DIR!)).toBe(image.user!.split(":")[0]);
    expect(existsSync(join(image.root, image.env.DATA_DIR!))).toBe(true);
    expect(interp.ran.some((c) => /^npm ci\b.*--omit=dev/.test(c))).toBe(true);
  });

  it("ships production dependencies only: no compiler, test runner or tsx", async () => {
    const app = join(image.root, image.workdir);
    const pkg = JSON.parse(await readFile(join(app, "package.json"), "utf8")) as { type?: string; devDependencies: Record<string, string> };
    // dist/ is ES modules; Node 20.19+ would also detect that, at the cost of a second parse.
    expect(pkg.type).toBe("module");
    const lockfile = JSON.parse(await readFile(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lockfile.packages).filter(([, p]) => p.dev).map(([k]) => k);
    expect(devOnly).toEqual(expect.arrayContaining(["node_modules/tsx", "node_modules/typescript", "node_modules/vitest"]));
    expect(devOnly.filter((k) => existsSync(join(app, k)))).toEqual([]);
    for (const name of ["tsx", "typescript", "vitest", "drizzle-kit"]) {
      expect(Object.keys(pkg.devDependencies)).toContain(name);
      expect(existsSync(join(app, "node_modules", name)), name).toBe(false);
    }
    expect(existsSync(join(app, "node_modules", "hono"))).toBe(true);
  });

  it(
    "starts with its CMD, applies migrations, passes its HEALTHCHECK and stops cleanly on SIGTERM",
    { timeout: 120_000 },
    async () => {
      expect(image.cmd).toBeDefined();
      expect(image.healthcheck).toBeDefined();
      const port = await freePort();
      const env = {
        PATH: process.env.PATH ?? "",
        HOME: join(image.root, "home"),
        ...image.env,
        // What `docker run --env-file .env` adds for a production smoke test.
        API_KEYS: "k".repeat(32),
        SECRET_KEY: "s".repeat(64),
        PUBLIC_BASE_URL: "https://otp.example.com",
        METRICS_TOKEN: "m".repeat(32),
        CARRIER: "simulator",
        ALLOW_SIMULATOR_IN_PRODUCTION: "true",
        // A free port instead of 3000, and the volume inside this stage's root.
        PORT: String(port),
        DATA_DIR: join(image.root, image.env.DATA_DIR!),
      };
      const cwd = join(image.root, image.workdir);
      const t0 = Date.now();
      const child = spawn(image.cmd![0]!, image.cmd!.slice(1), { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      let done = false;
      void exited.then(() => (done = true));
      try {
        const waitFor = async (path: string) => {
          for (let i = 0; i < 300; i++) {
            if (done) throw new Error(`the service exited before ${path} answered 200:\n${output}`);
            const status = await fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.status, () => 0);
            if (status === 200) return;
            await new Promise((r) => setTimeout(r, 200));
          }
          throw new Error(`${path} never answered 200:\n${output}`);
        };
        await waitFor("/healthz");
        timings.startToHealthy = Date.now() - t0;
        await waitFor("/readyz");
        expect(existsSync(join(env.DATA_DIR, "pg"))).toBe(true);
        // The API reference from the built files: the document (its generator and package.json
        // found from dist/) and the page's scripts from the production node_modules.
        const doc = await fetch(`http://127.0.0.1:${port}/openapi.json`);
        expect(doc.status).toBe(200);
        expect(((await doc.json()) as { servers: unknown }).servers).toEqual([{ url: "https://otp.example.com" }]);
        expect((await fetch(`http://127.0.0.1:${port}/docs/swagger-ui-bundle.js`)).status).toBe(200);

        const hc = await run(image.healthcheck!, cwd, env);
        expect(hc.code, hc.output).toBe(0);
      } finally {
        child.kill("SIGTERM");
      }
      expect(await exited, output).toBe(0);
      expect(output).toMatch(/"msg":"stopped"/);
      timings.runtime = Date.now() - t0;
    },
  );

  it("docker-compose.yml runs that image beside postgres:16, once postgres is healthy", async () => {
    const compose = parseYaml(await readFile(join(ROOT, "docker-compose.yml"), "utf8")) as Record<string, any>;
    const pg = compose.services.postgres;
    const svc = Object.values(compose.services as Record<string, any>).find((s) => s.build !== undefined);
    expect(pg.image).toBe("postgres:16");
    expect(JSON.stringify(pg.healthcheck.test)).toMatch(/pg_isready/);
    const [volume, mountPoint] = (pg.volumes[0] as string).split(":");
    expect(mountPoint).toBe("/var/lib/postgresql/data");
    expect(Object.keys(compose.volumes)).toContain(volume);

    expect(svc).toBeDefined();
    expect(typeof svc.build === "string" ? svc.build : svc.build.context).toBe(".");
    expect([svc.env_file].flat()).toContain(".env");
    expect(svc.depends_on.postgres.condition).toBe("service_healthy");
    expect(svc.ports).toContain(`127.0.0.1:3000:${image.env.PORT}`);
    expect(String(svc.environment.PORT ?? image.env.PORT)).toBe(image.env.PORT);
    const db = new URL(svc.environment.DATABASE_URL as string);
    expect(db.hostname).toBe("postgres");
    expect(decodeURIComponent(db.username)).toBe(pg.environment.POSTGRES_USER);
    expect(decodeURIComponent(db.password)).toBe(pg.environment.POSTGRES_PASSWORD);
    expect(db.pathname).toBe(`/${pg.environment.POSTGRES_DB}`);
  });
});

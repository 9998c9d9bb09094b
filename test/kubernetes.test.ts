import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ConfigError, loadConfig } from "../src/config/index.js";
import { envSchema } from "../src/config/schema.js";
import { healthRoute, readyRoute } from "../src/http/routes/health.js";
import { ROOT } from "./helpers/process.js";

/**
 * deploy/kubernetes/ holds plain manifests. No cluster runs here: each object is checked
 * offline against the Kubernetes schemas (kubernetes-models' validators, generated from
 * Kubernetes' OpenAPI document), then against the service itself: the probes against its
 * routes, the ports, grace period and variables against its configuration module, the
 * memory against the benchmark, the user against the Dockerfile.
 */

const DIR = join(ROOT, "deploy", "kubernetes");

/** What validates each kind we ship, by apiVersion and kind. */
const MODELS = [Deployment, Service, ConfigMap, Secret, PodDisruptionBudget, HorizontalPodAutoscaler];

// Typed loosely on purpose: the manifests are data, and the schemas judge their shape.
type Obj = Record<string, any>;
interface Manifest {
  file: string;
  object: Obj;
}

/** YAML 1.1, as kubectl reads it: an unquoted `no` or `on` is a boolean there, not a string. */
function readManifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(DIR, file), "utf8"), { version: "1.1" }).map((doc) => {
    expect(doc.errors, file).toEqual([]);
    return { file, object: doc.toJS() as Obj };
  });
}

const manifestFiles = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
const manifests = manifestFiles.flatMap(readManifests);
const only = (kind: string): Obj => {
  const found = manifests.filter((m) => m.object.kind === kind);
  expect(found.map((m) => m.file), `one ${kind}`).toHaveLength(1);
  return found[0]!.object;
};
const deployment = only("Deployment");
const service = only("Service");
const configMap = only("ConfigMap");
const secret = only("Secret");
const pdb = only("PodDisruptionBudget");
const hpa = only("HorizontalPodAutoscaler");
const pod = deployment.spec.template.spec;
const container = pod.containers.find((c: Obj) => c.name === "voice-otp");

function modelOf(object: Obj) {
  return MODELS.find((M) => M.apiVersion === object.apiVersion && M.kind === object.kind);
}

/** Throws kubernetes-models' ValidationError when the object does not match its kind's schema. */
function validate(object: Obj): void {
  const Model = modelOf(object);
  if (!Model) throw new Error(`no schema here for ${object.apiVersion} ${object.kind}`);
  new (Model as new (data: Obj) => { validate(): void })(object).validate();
}

/**
 * Kubernetes' schemas do not forbid unknown fields (the API server does, and kubectl
 * refuses them), so the validator alone would let `readinesProbe` through. A field is one
 * the schema knows when a value no type allows, put in its place, is refused at its path.
 */
function unknownFields(object: Obj): string[] {
  const unknown: string[] = [];
  const visit = (node: unknown, path: (string | number)[]) => {
    if (node === null || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      // The model is chosen by these two (modelOf), and its validator does not look at them.
      if (path.length === 0 && (key === "apiVersion" || key === "kind")) continue;
      const at = [...path, Array.isArray(node) ? Number(key) : key];
      const probe = structuredClone(object);
      let parent: any = probe;
      for (const k of at.slice(0, -1)) parent = parent[k];
      parent[at.at(-1)!] = Symbol("no schema allows this");
      const pointer = "/" + at.map((k) => String(k).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
      let errors: { instancePath: string }[] = [];
      try {
        validate(probe);
      } catch (err) {
        errors = (err as { errors?: { instancePath: string }[] }).errors ?? [];
      }
      if (!errors.some((e) => e.instancePath === pointer || e.instancePath.startsWith(pointer + "/"))) {
        unknown.push(at.join("."));
      } else {
        visit(value, at);
      }
    }
  };
  visit(object, []);
  return unknown;
}

/** A Kubernetes quantity (`160Mi`, `250m`, `1`) as a number of bytes or cores. */
function quantity(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|Ki|Mi|Gi)?$/.exec(String(q));
  if (!m) throw new Error(`quantity not understood here: ${q}`);
  const unit = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[m[2] ?? ""] ?? 1;
  return Number(m[1]) * unit;
}

/** The runtime stage of the Dockerfile: its ENV, USER and CMD, what the container starts with. */
function dockerRuntime(): { base: string; env: Record<string, string>; user?: string; cmd: string[] } {
  const lines = readFileSync(join(ROOT, "Dockerfile"), "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((l) => l.trim() && !l.trim().startsWith("#"));
  const start = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  const stage = lines.slice(start);
  const env: Record<string, string> = {};
  for (const l of stage.filter((l) => /^ENV\s/i.test(l))) {
    for (const [, k, v] of l.matchAll(/(\w+)=(\S+)/g)) env[k!] = v!;
  }
  const user = stage.map((l) => /^USER\s+(\S+)/i.exec(l)?.[1]).filter(Boolean).at(-1);
  const cmd = JSON.parse(/^CMD\s+(\[.*\])\s*$/im.exec(stage.join("\n"))![1]!) as string[];
  return { base: /^FROM\s+(\S+)/i.exec(stage[0]!)![1]!, env, user, cmd };
}

/** What an operator puts in the Secret; every key of the example needs a sample here. */
const FILLED: Record<string, string> = {
  SECRET_KEY: randomBytes(32).toString("hex"),
  API_KEYS: `${randomBytes(32).toString("hex")},${randomBytes(32).toString("hex")}`,
  METRICS_TOKEN: randomBytes(32).toString("hex"),
  DATABASE_URL: "postgres://voice_otp:s3cret@postgres:5432/voice_otp",
  TWILIO_ACCOUNT_SID: `AC${randomBytes(16).toString("hex")}`,
  TWILIO_AUTH_TOKEN: randomBytes(16).toString("hex"),
  TWILIO_NUMBER: "+14155550100",
};

/**
 * The environment the container's process gets: the image's ENV, then each envFrom source
 * in order, then `env` (Kubernetes' precedence), with the Secret's values given.
 */
function containerEnv(secretValues: Record<string, string>): Record<string, string> {
  const env = { ...dockerRuntime().env };
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      expect(from.configMapRef.name).toBe(configMap.metadata.name);
      Object.assign(env, configMap.data);
    }
    if (from.secretRef) {
      expect(from.secretRef.name).toBe(secret.metadata.name);
      Object.assign(env, secretValues);
    }
  }
  for (const e of container.env ?? []) env[e.name] = e.value;
  return env;
}

const filledSecret = () =>
  Object.fromEntries(
    Object.keys(secret.stringData).map((k) => {
      if (!(k in FILLED)) throw new Error(`secret.example.yaml has ${k}: give it a sample value in FILLED`);
      return [k, FILLED[k]!];
    }),
  );
const productionConfig = () => loadConfig(containerEnv(filledSecret()));

/** A probe's or a Service's port, by number or by the container port's name. */
function portNumber(port: string | number): number {
  if (typeof port === "number") return port;
  const named = container.ports.find((p: Obj) => p.name === port);
  expect(named, `a container port named ${port}`).toBeDefined();
  return named.containerPort;
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe("deploy/kubernetes: the manifests themselves", () => {
  it("holds a Deployment, a Service, a ConfigMap, an example Secret, a PodDisruptionBudget and a HorizontalPodAutoscaler", () => {
    expect(manifests.map((m) => `${m.file}: ${m.object.kind}`).sort()).toEqual([
      "configmap.yaml: ConfigMap",
      "deployment.yaml: Deployment",
      "hpa.yaml: HorizontalPodAutoscaler",
      "pdb.yaml: PodDisruptionBudget",
      "secret.example.yaml: Secret",
      "service.yaml: Service",
    ]);
  });

  it("every object is valid against the Kubernetes schema of its kind", () => {
    for (const { file, object } of manifests) {
      expect(modelOf(object), `${file}: ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => validate(object), file).not.toThrow();
    }
  });

  it("every field written is one the schema knows (kubectl refuses unknown fields)", () => {
    for (const { file, object } of manifests) expect(unknownFields(object), file).toEqual([]);
  });

  it("the checks refuse a bad manifest: a wrong type, a missing field, a misspelt field", () => {
    const wrongType = structuredClone(deployment);
    wrongType.spec.replicas = "two";
    expect(() => validate(wrongType)).toThrow(/spec\/replicas must be integer/);

    const missing = structuredClone(deployment);
    delete missing.spec.template.spec.containers[0].name;
    expect(() => validate(missing)).toThrow(/containers\/0 must have required property name/);

    const misspelt = structuredClone(deployment);
    const c = misspelt.spec.template.spec.containers[0];
    c.readinesProbe = c.readinessProbe;
    delete c.readinessProbe;
    expect(() => validate(misspelt)).not.toThrow();
    expect(unknownFields(misspelt)).toEqual(["spec.template.spec.containers.0.readinesProbe"]);
  });

  it("kustomization.yaml applies every manifest but the example Secret", () => {
    const kustomization = readManifests("kustomization.yaml")[0]!.object;
    expect(kustomization.kind).toBe("Kustomization");
    expect([...kustomization.resources].sort()).toEqual(manifestFiles.filter((f) => f !== "secret.example.yaml").sort());
  });
});

describe("deploy/kubernetes: several instances that agree with the service", () => {
  it("runs at least two replicas, spread over nodes, and autoscaling never goes below two", () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThanOrEqual(hpa.spec.minReplicas);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(pod.topologySpreadConstraints.map((t: Obj) => t.topologyKey)).toContain("kubernetes.io/hostname");
  });

  it("probes liveness on /healthz and readiness on /readyz, at the port the service listens on", () => {
    const config = productionConfig();
    expect(container.livenessProbe.httpGet.path).toBe(healthRoute.path);
    expect(container.startupProbe.httpGet.path).toBe(healthRoute.path);
    expect(container.readinessProbe.httpGet.path).toBe(readyRoute.path);
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(portNumber(probe.httpGet.port)).toBe(config.port);
    }
    // The kubelet probes the pod's address, not loopback.
    expect(config.host).toBe("0.0.0.0");
    // /readyz waits up to 1.5 s for the database before answering 503.
    expect(container.readinessProbe.timeoutSeconds).toBeGreaterThan(1.5);
  });

  it("gives the drain its time: the grace period covers the preStop pause, SHUTDOWN_GRACE_SECONDS and the last-resort exit", () => {
    const config = productionConfig();
    const pause = container.lifecycle.preStop.sleep.seconds;
    expect(pause).toBeGreaterThanOrEqual(3);
    // server.ts exits on its own this long after SHUTDOWN_GRACE_SECONDS should the close hang.
    const serverTs = readFileSync(join(ROOT, "src", "server.ts"), "utf8");
    const lastResortMs = Number(/shutdownGraceSeconds \* 1000 \+ (\d+)/.exec(serverTs)?.[1]);
    expect(lastResortMs, "server.ts's hard-stop timer moved: update this test").toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(pause + config.shutdownGraceSeconds + lastResortMs / 1000);
  });

  it("runs as the image's non-root user, on a read-only root filesystem, with no privilege", () => {
    const image = dockerRuntime();
    // The official node images create `node` as uid 1000, gid 1000.
    expect(image.base).toMatch(/^node:/);
    expect(image.user).toBe("node");
    const effective = (field: string) => container.securityContext?.[field] ?? pod.securityContext?.[field];
    expect(effective("runAsNonRoot")).toBe(true);
    expect(effective("runAsUser")).toBe(1000);
    expect(effective("runAsGroup")).toBe(1000);
    expect(effective("seccompProfile")).toEqual({ type: "RuntimeDefault" });
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext.capabilities.drop).toEqual(["ALL"]);
    expect(container.securityContext.privileged).toBeUndefined();
    expect(pod.automountServiceAccountToken).toBe(false);
    // No writable volume either: with DATABASE_URL the service writes no file.
    expect(container.volumeMounts.filter((v: Obj) => !v.readOnly)).toEqual([]);
  });

  it("sizes memory from the benchmark: the request holds the peak RSS, the limit 1.5 times it and the V8 heap cap", () => {
    const results = readFileSync(join(ROOT, "bench", "results.md"), "utf8");
    const peaks = [
      ...results.matchAll(/\| peak RSS of the service process \|[^\n]*?\| (\d+) MB/g),
      ...results.matchAll(/^- request-auth[^\n]*peak RSS during the run (\d+) MB/gm),
    ].map((m) => Number(m[1]) * 1e6);
    expect(peaks.length, "bench/results.md's peak RSS figures").toBeGreaterThan(0);
    const peak = Math.max(...peaks);
    const heapCapMiB = Number(/^--max-old-space-size=(\d+)$/.exec(dockerRuntime().cmd.find((a) => a.startsWith("--max-old-space-size="))!)![1]);

    const { requests, limits } = container.resources;
    expect(quantity(requests.memory)).toBeGreaterThanOrEqual(peak);
    expect(quantity(limits.memory)).toBeGreaterThanOrEqual(1.5 * peak);
    expect(quantity(limits.memory)).toBeGreaterThan(heapCapMiB * 2 ** 20);
    // The autoscaler's utilisation is a share of the CPU request.
    expect(quantity(requests.cpu)).toBeGreaterThan(0);
    expect(quantity(limits.cpu)).toBeGreaterThanOrEqual(quantity(requests.cpu));
  });

  it("every variable in the ConfigMap and the Secret is one the service reads, and secrets are only in the Secret", () => {
    const known = Object.keys(envSchema.shape);
    const names = [...Object.keys(configMap.data), ...Object.keys(secret.stringData), ...(container.env ?? []).map((e: Obj) => e.name)];
    expect(names.filter((n) => !known.includes(n))).toEqual([]);
    // What the configuration module itself will not echo in an error.
    expect(Object.keys(configMap.data).filter((n) => /TOKEN|SECRET|KEY|PASSWORD|DATABASE_URL/.test(n))).toEqual([]);
    expect(secret.data).toBeUndefined();
  });

  it("the ConfigMap with a filled-in Secret is a configuration production accepts, on the shared PostgreSQL", () => {
    const config = productionConfig();
    expect(config.production).toBe(true);
    expect(config.carrier.name).toBe(configMap.data.CARRIER);
    expect(config.publicBaseUrl).toMatch(/^https:\/\//);
    // Several instances share limits and codes through one database.
    expect(config.databaseUrl).toBe(FILLED.DATABASE_URL);
    expect(config.shutdownGraceSeconds).toBe(Number(configMap.data.SHUTDOWN_GRACE_SECONDS));
  });

  it("an example Secret left unfilled never runs: each empty value stops the start, naming the variable", () => {
    expect(Object.values(secret.stringData).every((v) => v === "")).toBe(true);
    for (const key of Object.keys(secret.stringData)) {
      const env = containerEnv({ ...filledSecret(), [key]: "" });
      if (key === "DATABASE_URL") {
        // Without it the service would open an embedded database of its own in DATA_DIR,
        // alone: that directory is mounted read-only, so the start fails instead.
        const config = loadConfig(env);
        expect(config.databaseUrl).toBeUndefined();
        const mount = container.volumeMounts.find((v: Obj) => v.mountPath === config.dataDir);
        expect(mount?.readOnly, `DATA_DIR (${config.dataDir}) mounted read-only`).toBe(true);
        continue;
      }
      expect(() => loadConfig(env), key).toThrow(ConfigError);
      expect(() => loadConfig(env), key).toThrow(new RegExp(`^${key}: `));
    }
  });

  it("the Service, the PodDisruptionBudget and the HorizontalPodAutoscaler all reach the Deployment's pods", () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(matches(deployment.spec.selector.matchLabels, labels)).toBe(true);
    expect(matches(service.spec.selector, labels)).toBe(true);
    expect(portNumber(service.spec.ports[0].targetPort)).toBe(productionConfig().port);
    expect(matches(pdb.spec.selector.matchLabels, labels)).toBe(true);
    expect(pdb.spec.minAvailable).toBe(1);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name });
    expect(hpa.spec.metrics.map((m: Obj) => `${m.type}/${m.resource?.name}`)).toEqual(["Resource/cpu"]);
  });
});

import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { handleError } from "../src/http/errors.js";
import { createLogger } from "../src/logger.js";

describe("the error handler", () => {
  it("answers an unexpected exception 500 without internals, and logs it with its stack", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", pretty: false, destination: { write: (l: string) => void lines.push(l) } });
    const app = new Hono();
    app.onError(handleError(logger));
    app.get("/boom", () => {
      throw new TypeError("secret internals: row 42 of table challenges");
    });
    const res = await app.request("/boom");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "internal_error", message: "internal error; the service logged the details" } });
    expect(text).not.toContain("secret internals");
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "unhandled error");
    expect(logged.err.message).toBe("secret internals: row 42 of table challenges");
    expect(logged.err.stack).toMatch(/TypeError: secret internals[\s\S]*errors\.test\.ts/);
    expect(logged.path).toBe("/boom");
  });
});

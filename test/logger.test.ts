import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, lazyChild } from "../src/logger.js";

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = createLogger({ level, pretty: false, destination });
  let children = 0;
  // The request's child is made from this parent: each call of it is one child made.
  const parent = () => (children++, logger);
  return { logger, parent, lines, children: () => children };
}

describe("a request's logger", () => {
  it("makes no pino child while nothing is written at a level that is on", () => {
    const c = capture("warn");
    const log = lazyChild(c.parent, { reqId: "r1" }, c.logger);
    log.info({ path: "/validate-auth" }, "request");
    log.child({ challenge: "ch_1" }).info("call placed");
    expect(c.lines).toEqual([]);
    expect(c.children()).toBe(0);
  });

  it("writes its fields, and its children's, on every line at a level that is on", () => {
    const c = capture("info");
    const log = lazyChild(c.parent, { reqId: "r2" }, c.logger);
    const call = log.child({ challenge: "ch_2" });
    call.warn({ carrier: "twilio" }, "carrier refused the call");
    log.info("request");
    call.error("again");
    expect(c.lines.map(({ reqId, challenge, carrier, msg }) => ({ reqId, challenge, carrier, msg }))).toEqual([
      { reqId: "r2", challenge: "ch_2", carrier: "twilio", msg: "carrier refused the call" },
      { reqId: "r2", challenge: undefined, carrier: undefined, msg: "request" },
      { reqId: "r2", challenge: "ch_2", carrier: undefined, msg: "again" },
    ]);
    // One child for the request, made once.
    expect(c.children()).toBe(1);
  });

  it("still redacts codes", () => {
    const c = capture("info");
    lazyChild(c.logger, { reqId: "r3" }).info({ auth_code: "123456", body: { code: "654321" } }, "oops");
    expect(JSON.stringify(c.lines)).not.toMatch(/123456|654321/);
  });
});

// Plain JavaScript: the service's child process runs without tsx, as production runs it.

/**
 * The child's side of the benchmark's IPC: answers requests with handlers, closes on
 * { op: "close" } or when the parent goes away.
 */
export function serveParent(handlers, close) {
  let closing = false;
  const shutdown = async (code) => {
    if (closing) return;
    closing = true;
    await close().catch(() => {});
    process.exit(code);
  };
  process.on("message", async (msg) => {
    if (msg.op === "close") return shutdown(0);
    const handler = handlers[msg.op];
    try {
      if (!handler) throw new Error(`unknown op ${msg.op}`);
      const result = await handler(msg);
      process.send?.({ id: msg.id, result: result ?? null });
    } catch (err) {
      process.send?.({ id: msg.id, error: err.message });
    }
  });
  process.on("disconnect", () => void shutdown(1));
}

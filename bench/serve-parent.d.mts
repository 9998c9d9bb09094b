export function serveParent(handlers: Record<string, (msg: any) => unknown>, close: () => Promise<void>): void;

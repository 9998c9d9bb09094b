// Typed through src/carriers/signalwire/sdk.ts; see there.
declare module "@signalwire/compatibility-api";

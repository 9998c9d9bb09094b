/**
 * The service answers in snake_case; the client hands out camelCase. One generic
 * mapping, at the type level and at run time, so that every field of the served
 * schema reaches the caller under a predictable name and none can be forgotten.
 */

type Camel<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

export type CamelCased<T> = T extends ReadonlyArray<infer Item>
  ? Array<CamelCased<Item>>
  : T extends object
    ? { [K in keyof T as K extends string ? Camel<K> : K]: CamelCased<T[K]> }
    : T;

export function camelCased<T>(value: T): CamelCased<T> {
  if (Array.isArray(value)) return value.map(camelCased) as CamelCased<T>;
  if (value === null || typeof value !== "object") return value as CamelCased<T>;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), camelCased(v)]),
  ) as CamelCased<T>;
}

/**
 * An object's own keys back in the service's snake_case (`codeLength` → `code_length`,
 * `callsPerNumberPer10Min` → `calls_per_number_per_10_min`), for what the client sends.
 */
export function snakeKeys<T extends object>(value: T): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/([a-z])(\d)/g, "$1_$2"), v]),
  );
}

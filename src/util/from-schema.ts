/**
 * Derive a TypeScript type from a JSON schema written `as const`, for the subset of JSON
 * schema this project writes (object, array, string, integer, number, boolean, enum, const,
 * anyOf/oneOf). The schema stays the one source of truth for each shape.
 */
type Writable<T> = { -readonly [K in keyof T]: T[K] };

type ObjectOf<S> = S extends { properties: infer P }
  ? S extends { required: readonly (infer R)[] }
    ? Expand<
        { -readonly [K in keyof P & R]: FromSchema<P[K]> } & {
          -readonly [K in Exclude<keyof P, R>]?: FromSchema<P[K]>;
        }
      >
    : { -readonly [K in keyof P]?: FromSchema<P[K]> }
  : S extends { additionalProperties: infer A }
    ? A extends object
      ? Record<string, FromSchema<A>>
      : Record<string, unknown>
    : Record<string, unknown>;

type Expand<T> = T extends infer O ? { [K in keyof O]: O[K] } : never;

export type FromSchema<S> = S extends { const: infer C }
  ? C
  : S extends { enum: readonly (infer E)[] }
    ? E
    : S extends { anyOf: readonly (infer U)[] }
      ? FromSchema<U>
      : S extends { oneOf: readonly (infer U)[] }
        ? FromSchema<U>
        : S extends { type: readonly (infer T)[] }
          ? FromSchema<Writable<Omit<S, 'type'>> & { type: T }>
          : S extends { type: 'null' }
            ? null
            : S extends { type: 'string' }
              ? string
              : S extends { type: 'integer' | 'number' }
                ? number
                : S extends { type: 'boolean' }
                  ? boolean
                  : S extends { type: 'array'; items: infer I }
                    ? FromSchema<I>[]
                    : S extends { type: 'object' }
                      ? ObjectOf<S>
                      : unknown;

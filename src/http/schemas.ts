import { isIP } from "node:net";
import { z } from "zod";

/** Request and response shapes: one schema validates, types and (later) documents each route. */

const text = (max: number) => z.string().trim().min(1).max(max);

export const requestAuthBody = z.object({
  number: text(32),
  language: text(16).optional(),
  // The end user's address: the caller is usually one backend server, so its own says nothing.
  client_ip: z
    .string()
    .trim()
    .refine((v) => isIP(v) !== 0, "client_ip must be an IPv4 or IPv6 address")
    .optional(),
});

export const validateAuthBody = z
  .object({
    number: text(32).optional(),
    id: text(64).optional(),
    auth_code: z
      .string({ error: "auth_code must be a string of digits (a JSON number would lose leading zeros)" })
      .trim()
      .regex(/^\d{1,20}$/, "auth_code must be digits only"),
  })
  .refine((b) => (b.number === undefined) !== (b.id === undefined), {
    message: "send either number or id, not both",
    path: ["number"],
  });

export type RequestAuthBody = z.infer<typeof requestAuthBody>;
export type ValidateAuthBody = z.infer<typeof validateAuthBody>;

import { sql } from "drizzle-orm";
import { index, integer, pgTable, smallint, text, timestamp, uniqueIndex, bigserial } from "drizzle-orm/pg-core";

export const challenges = pgTable(
  "challenges",
  {
    // Opaque random id: it travels in the call's webhook URL instead of the code.
    id: text("id").primaryKey(),
    number: text("number").notNull(), // E.164
    status: text("status").notNull(), // pending | approved | expired | superseded | failed | too_many_attempts
    // Keyed HMAC of the code, for checking; null once the challenge has ended.
    codeMac: text("code_mac"),
    // The code sealed with AES-256-GCM, for reading aloud; null once the challenge has ended.
    codeSealed: text("code_sealed"),
    language: text("language").notNull(),
    // The key the listener must press before the code is read (VOICE_GATE), else null.
    gateDigit: smallint("gate_digit"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull(),
    carrier: text("carrier").notNull(),
    callSid: text("call_sid"),
    callStatus: text("call_status"),
    answeredBy: text("answered_by"),
    failureCode: text("failure_code"),
    apiKeyName: text("api_key_name"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    // At most one pending challenge per number, enforced by the database itself so
    // that concurrent requests on several instances cannot leave two behind.
    uniqueIndex("challenges_one_pending_per_number").on(t.number).where(sql`${t.status} = 'pending'`),
    index("challenges_number_created").on(t.number, t.createdAt),
    index("challenges_call_sid").on(t.callSid),
  ],
);

export const callEvents = pgTable(
  "call_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    challengeId: text("challenge_id")
      .notNull()
      .references(() => challenges.id, { onDelete: "cascade" }),
    callSid: text("call_sid").notNull(),
    status: text("status").notNull(),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    // A replayed status callback inserts nothing.
    uniqueIndex("call_events_once").on(t.challengeId, t.callSid, t.status),
  ],
);

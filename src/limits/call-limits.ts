import type { Limits } from "../config/index.js";

/**
 * Limits on placing calls. They are counted by the database function that issues a
 * challenge (drizzle/0009_issue_challenges_in_batches.sql; its spend cap as changed in
 * 0010): every call placed (or attempted) is a challenge row, the spend cap an hourly
 * counter, and the function takes per-range and per-address locks first, so
 * concurrent requests on any number of instances are counted one after another where
 * they compete. This module turns its verdict into what the client is told.
 */

export type CallLimitName =
  | "resend_cooldown"
  | "failed_validations"
  | "calls_per_number_per_10_min"
  | "calls_per_number_per_day"
  | "calls_per_prefix_per_hour"
  | "calls_per_ip_per_hour"
  | "calls_per_day";

export interface LimitRefusal {
  limit: CallLimitName;
  retryAfterSeconds: number;
  message: string;
}

/** The number less its last four digits: one exchange's block of 10,000 numbers. */
export const numberPrefix = (e164: string) => e164.slice(0, -4);

const MESSAGES: Record<CallLimitName, (l: Limits) => string> = {
  resend_cooldown: (l) =>
    `a call to this number was requested less than ${l.resendCooldownSeconds} s ago; wait before asking again`,
  failed_validations: () => "too many wrong codes for this number in the last 24 hours; no new call until Retry-After",
  calls_per_number_per_10_min: (l) => `limit reached: at most ${l.callsPerNumberPer10Min} calls to this number in 10 minutes`,
  calls_per_number_per_day: (l) => `limit reached: at most ${l.callsPerNumberPerDay} calls to this number in 24 hours`,
  calls_per_prefix_per_hour: (l) => `limit reached: at most ${l.callsPerPrefixPerHour} calls to numbers in this range in an hour`,
  calls_per_ip_per_hour: (l) => `limit reached: at most ${l.callsPerIpPerHour} calls for this client_ip in an hour`,
  // The spend guard counts every call, so it fails closed when the day's budget is gone.
  calls_per_day: (l) => `limit reached: at most ${l.callsPerDay} calls by this service in 24 hours`,
};

export function isCallLimit(name: string): name is CallLimitName {
  return Object.hasOwn(MESSAGES, name);
}

/** A refusal as the client sees it: which limit, and when a slot frees. */
export function limitRefusal(limit: CallLimitName, retryAt: Date, limits: Limits, now: Date): LimitRefusal {
  return {
    limit,
    retryAfterSeconds: Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 1000)),
    message: MESSAGES[limit](limits),
  };
}

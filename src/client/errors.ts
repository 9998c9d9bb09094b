/** Every error the client throws carries the service's error code and its request id. */
export class VoiceOtpError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 when no answer arrived. */
    readonly status: number,
    /** The service's error code (`invalid_request`, `carrier_error`, …), or `network` / `timeout`. */
    readonly code: string,
    readonly requestId?: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 429: a limit refused the request; try again after retryAfterSeconds. */
export class RateLimitedError extends VoiceOtpError {
  get retryAfterSeconds(): number {
    return Number(this.details.retry_after_seconds ?? 0);
  }
  /** Which limit: `resend_cooldown`, `calls_per_number_per_10_min`, `attempts_exhausted`, … */
  get limit(): string {
    return String(this.details.limit ?? this.code);
  }
}

/** 400: the number cannot be parsed, or may not be called (destination rules). */
export class InvalidNumberError extends VoiceOtpError {}

/** 401: missing, unknown or revoked API key. */
export class UnauthorizedError extends VoiceOtpError {}

/** 502/504: the carrier refused the call or did not answer; the challenge is failed. */
export class CarrierError extends VoiceOtpError {
  get carrier(): string | undefined {
    return this.details.carrier as string | undefined;
  }
  get carrierCode(): string | undefined {
    return this.details.carrier_code as string | undefined;
  }
  get challengeId(): string | undefined {
    return this.details.challenge_id as string | undefined;
  }
  get timedOut(): boolean {
    return this.status === 504;
  }
}

/** 503, or no answer at all: the service (or its database) is unavailable. */
export class ServiceUnavailableError extends VoiceOtpError {}

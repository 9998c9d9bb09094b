-- Custom SQL migration file, put your code below! --
-- Issuing a challenge in one statement (called by issueChallenge in src/otp/challenges.ts).
-- Every call limit counts rows that only this function writes, and it writes them only
-- under the locks it takes first, so concurrent issuers on any number of instances are
-- counted one after another where they compete (one number range, one client address)
-- and run side by side where they do not. Each statement below takes a fresh snapshot
-- (a volatile function under READ COMMITTED), so it sees what the previous lock holder
-- committed. The service's clock and limits come in as arguments.
CREATE OR REPLACE FUNCTION voice_otp_issue_challenge(
  p_id text, p_number text, p_prefix text, p_client_ip text,
  p_code_mac text, p_code_sealed text, p_language text, p_gate_digit integer,
  p_max_attempts integer, p_carrier text, p_api_key_name text,
  p_now timestamptz, p_expires_at timestamptz, p_hour timestamptz,
  p_resend_cooldown_seconds integer, p_per_number_10_min integer, p_per_number_day integer,
  p_per_prefix_hour integer, p_per_ip_hour integer, p_per_day integer, p_failed_per_day integer
) RETURNS TABLE (o_outcome text, o_limit text, o_retry_at timestamptz, o_used integer)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_at timestamptz;
  v_failed integer;
  v_locked_until timestamptz;
  v_before integer;
  v_budget integer;
  v_shards integer;
  v_start integer;
  v_shard integer;
  v_share integer;
  v_calls integer;
BEGIN
  -- A number's range contains the number: one lock orders both kinds of limit.
  PERFORM pg_advisory_xact_lock(hashtextextended('voice-otp:prefix:' || p_prefix, 0));
  IF p_client_ip IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('voice-otp:ip:' || p_client_ip, 0));
  END IF;
  -- Guesses change only the pending challenge: once its row is locked, a guess in flight
  -- has committed and no other can land, so the failures and attempts read below are exact.
  PERFORM 1 FROM challenges WHERE number = p_number AND status = 'pending' FOR UPDATE;

  IF p_resend_cooldown_seconds > 0 THEN
    SELECT max(created_at) INTO v_at FROM challenges WHERE number = p_number;
    IF v_at > p_now - make_interval(secs => p_resend_cooldown_seconds) THEN
      RETURN QUERY SELECT 'limited', 'resend_cooldown', v_at + make_interval(secs => p_resend_cooldown_seconds), 0;
      RETURN;
    END IF;
  END IF;

  -- Locked by wrong guesses: until enough of the day's failures (oldest first) age out.
  SELECT coalesce(sum(failures), 0) INTO v_failed FROM challenges
  WHERE number = p_number AND failures > 0 AND created_at > p_now - interval '1 day';
  IF v_failed >= p_failed_per_day THEN
    SELECT s.created_at + interval '1 day' INTO v_at FROM (
      SELECT created_at, sum(failures) OVER (ORDER BY created_at) AS cum FROM challenges
      WHERE number = p_number AND failures > 0 AND created_at > p_now - interval '1 day'
    ) s WHERE v_failed - s.cum < p_failed_per_day ORDER BY s.created_at LIMIT 1;
    RETURN QUERY SELECT 'limited', 'failed_validations', v_at, 0;
    RETURN;
  END IF;

  -- A sliding window is full when it holds a max-th most recent call; a slot frees when
  -- that call leaves the window.
  SELECT created_at INTO v_at FROM challenges WHERE number = p_number AND created_at > p_now - interval '10 minutes'
  ORDER BY created_at DESC OFFSET p_per_number_10_min - 1 LIMIT 1;
  IF FOUND THEN
    RETURN QUERY SELECT 'limited', 'calls_per_number_per_10_min', v_at + interval '10 minutes', 0;
    RETURN;
  END IF;
  SELECT created_at INTO v_at FROM challenges WHERE number = p_number AND created_at > p_now - interval '1 day'
  ORDER BY created_at DESC OFFSET p_per_number_day - 1 LIMIT 1;
  IF FOUND THEN
    RETURN QUERY SELECT 'limited', 'calls_per_number_per_day', v_at + interval '1 day', 0;
    RETURN;
  END IF;
  SELECT created_at INTO v_at FROM challenges WHERE number_prefix = p_prefix AND created_at > p_now - interval '1 hour'
  ORDER BY created_at DESC OFFSET p_per_prefix_hour - 1 LIMIT 1;
  IF FOUND THEN
    RETURN QUERY SELECT 'limited', 'calls_per_prefix_per_hour', v_at + interval '1 hour', 0;
    RETURN;
  END IF;
  IF p_client_ip IS NOT NULL THEN
    SELECT created_at INTO v_at FROM challenges WHERE client_ip = p_client_ip AND created_at > p_now - interval '1 hour'
    ORDER BY created_at DESC OFFSET p_per_ip_hour - 1 LIMIT 1;
    IF FOUND THEN
      RETURN QUERY SELECT 'limited', 'calls_per_ip_per_hour', v_at + interval '1 hour', 0;
      RETURN;
    END IF;
  END IF;

  -- Wrong guesses on any unexpired, unapproved challenge of the number carry over:
  -- a resend never refills the guessing budget.
  SELECT coalesce(max(attempts), 0), max(expires_at) FILTER (WHERE attempts >= p_max_attempts)
  INTO o_used, v_locked_until FROM challenges
  WHERE number = p_number AND status <> 'approved' AND expires_at > p_now;
  IF o_used >= p_max_attempts THEN
    RETURN QUERY SELECT 'attempts_exhausted', NULL::text, coalesce(v_locked_until, p_now), o_used;
    RETURN;
  END IF;

  -- The spend cap: the calls of this hour and the 23 before it. The earlier hours no
  -- longer change, so this hour's budget is known, and it is split over up to 8 shard
  -- rows: an issuer takes a unit from a shard with room under that row's lock (held to
  -- commit), starting at a random one, so concurrent issuers rarely queue on one row
  -- and the shards never add up to more than the budget.
  SELECT coalesce(sum(calls), 0) INTO v_before FROM call_counts
  WHERE hour > p_hour - interval '1 day' AND hour < p_hour;
  v_budget := p_per_day - v_before;
  IF v_budget > 0 THEN
    v_shards := least(8, v_budget);
    v_start := floor(random() * v_shards)::integer;
    FOR i IN 0 .. v_shards - 1 LOOP
      v_shard := (v_start + i) % v_shards;
      v_share := v_budget / v_shards + CASE WHEN v_shard < v_budget % v_shards THEN 1 ELSE 0 END;
      INSERT INTO call_counts AS c (hour, shard, calls) VALUES (p_hour, v_shard, 1)
      ON CONFLICT (hour, shard) DO UPDATE SET calls = c.calls + 1 WHERE c.calls < v_share
      RETURNING calls INTO v_calls;
      EXIT WHEN v_calls IS NOT NULL;
    END LOOP;
  END IF;
  IF v_calls IS NULL THEN
    -- Full until enough of the oldest hours leave the window.
    SELECT s.hour + interval '1 day' INTO v_at FROM (
      SELECT h.hour, sum(h.calls) OVER (ORDER BY h.hour) AS cum
      FROM (SELECT hour, sum(calls) AS calls FROM call_counts
            WHERE hour > p_hour - interval '1 day' AND hour <= p_hour GROUP BY hour) h
    ) s WHERE (SELECT sum(calls) FROM call_counts WHERE hour > p_hour - interval '1 day' AND hour <= p_hour) - s.cum < p_per_day
    ORDER BY s.hour LIMIT 1;
    RETURN QUERY SELECT 'limited', 'calls_per_day', coalesce(v_at, p_hour + interval '1 day'), 0;
    RETURN;
  END IF;

  UPDATE challenges
  SET status = CASE WHEN expires_at <= p_now THEN 'expired' ELSE 'superseded' END,
      code_mac = NULL, code_sealed = NULL, ended_at = p_now
  WHERE number = p_number AND status = 'pending';
  INSERT INTO challenges (id, number, number_prefix, client_ip, status, code_mac, code_sealed, language, gate_digit,
                          attempts, max_attempts, carrier, api_key_name, created_at, expires_at)
  VALUES (p_id, p_number, p_prefix, p_client_ip, 'pending', p_code_mac, p_code_sealed, p_language, p_gate_digit,
          o_used, p_max_attempts, p_carrier, p_api_key_name, p_now, p_expires_at);
  RETURN QUERY SELECT 'issued', NULL::text, NULL::timestamptz, o_used;
END
$$;
--> statement-breakpoint
-- Deployments that already hold challenges start the spend cap with the calls of the last day.
INSERT INTO call_counts (hour, shard, calls)
SELECT date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 0, count(*)::integer
FROM challenges WHERE created_at > now() - interval '1 day'
GROUP BY 1
ON CONFLICT (hour, shard) DO NOTHING;

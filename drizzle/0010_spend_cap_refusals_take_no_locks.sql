-- Custom SQL migration file, put your code below! --
-- The spend cap's step of voice_otp_issue_challenges (0009), changed; the rest is as
-- there. A batch took its units round the ring of the hour's 8 shard rows from a random
-- start and held each row it locked to commit (an upsert locks the row it finds even
-- when its WHERE refuses the update), so batches that started at different shards
-- waited for each other's rows once the shards filled: 4 to 19 deadlocks, each a
-- second's stall before the retry, in 300 requests at once over four instances
-- against a cap of 50 (test/batch.test.ts). Now:
--   * a shard read full (without a lock) is not tried: a full shard stays full for
--     its hour, so once the cap is reached a refusal takes no lock at all;
--   * the hour's rows are created first, and a batch waits for a shard row only if it
--     comes after every row it holds in (hour, shard) order; one before, it takes only
--     if no one holds it (SKIP LOCKED). Waits then follow one order, so none closes a
--     cycle. A request that finds room only in shards other batches hold is answered
--     'busy', and the service sends it again in a later batch.
CREATE OR REPLACE FUNCTION voice_otp_issue_challenges(
  p_ids text[], p_numbers text[], p_prefixes text[], p_client_ips text[],
  p_code_macs text[], p_code_sealeds text[], p_languages text[], p_gate_digits integer[],
  p_carriers text[], p_api_key_names text[], p_nows timestamptz[], p_expires_ats timestamptz[],
  p_max_attempts integer, p_resend_cooldown_seconds integer, p_per_number_10_min integer, p_per_number_day integer,
  p_per_prefix_hour integer, p_per_ip_hour integer, p_per_day integer, p_failed_per_day integer
) RETURNS TABLE (o_ord integer, o_outcome text, o_limit text, o_retry_at timestamptz, o_used integer)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_key bigint;
  v_now timestamptz;
  v_last timestamptz;
  v_recent integer;
  v_today integer;
  v_hour timestamptz;
  v_counted_hour timestamptz;
  v_at timestamptz;
  v_failed integer;
  v_locked_until timestamptz;
  v_before integer;
  v_budget integer;
  v_shards integer;
  -- One random first shard for the whole batch: its requests take their units from one
  -- row while it has room, and move on round the ring only when it is full.
  v_start integer := floor(random() * 8)::integer;
  v_shard integer;
  v_share integer;
  v_calls integer;
  -- Shards of this hour known to be full: not tried again.
  v_full integer[];
  -- The last in (hour, shard) order of the shard rows this batch holds (NULL: none).
  v_held bigint;
  v_order bigint;
  -- The row this batch took its last unit from: held, so taken again without a probe.
  v_taken bigint;
  v_created integer;
  -- Whether a request just passed by a shard with room that another batch held.
  v_busy boolean;
BEGIN
  FOR v_key IN
    SELECT k FROM (
      SELECT hashtextextended('voice-otp:prefix:' || p, 0) AS k FROM unnest(p_prefixes) AS p
      UNION
      SELECT hashtextextended('voice-otp:ip:' || ip, 0) FROM unnest(p_client_ips) AS ip WHERE ip IS NOT NULL
    ) keys ORDER BY k
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;
  -- Guesses change only the pending challenge: once its row is locked, a guess in flight
  -- has committed and no other can land, so the failures and attempts read below are exact.
  PERFORM 1 FROM challenges WHERE number = ANY (p_numbers) AND status = 'pending' ORDER BY id FOR UPDATE;

  FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
    o_ord := i;
    o_used := 0;
    o_limit := NULL;
    o_retry_at := NULL;
    v_now := p_nows[i];

    -- Everything the number's own limits need, in one pass over its recent rows (the
    -- oldest that matters is a day old: the windows, and codes live a day at most). Only
    -- a refusal reads more, for when it ends.
    SELECT max(created_at),
           coalesce(sum(failures) FILTER (WHERE failures > 0 AND created_at > v_now - interval '1 day'), 0),
           count(*) FILTER (WHERE created_at > v_now - interval '10 minutes'),
           count(*) FILTER (WHERE created_at > v_now - interval '1 day'),
           coalesce(max(attempts) FILTER (WHERE status <> 'approved' AND expires_at > v_now), 0),
           max(expires_at) FILTER (WHERE status <> 'approved' AND expires_at > v_now AND attempts >= p_max_attempts)
    INTO v_last, v_failed, v_recent, v_today, o_used, v_locked_until
    FROM challenges WHERE number = p_numbers[i] AND created_at > v_now - interval '2 days';

    IF p_resend_cooldown_seconds > 0 AND v_last > v_now - make_interval(secs => p_resend_cooldown_seconds) THEN
      o_outcome := 'limited'; o_limit := 'resend_cooldown'; o_retry_at := v_last + make_interval(secs => p_resend_cooldown_seconds); o_used := 0;
      RETURN NEXT;
      CONTINUE;
    END IF;

    -- Locked by wrong guesses: until enough of the day's failures (oldest first) age out.
    IF v_failed >= p_failed_per_day THEN
      SELECT s.created_at + interval '1 day' INTO v_at FROM (
        SELECT created_at, sum(failures) OVER (ORDER BY created_at) AS cum FROM challenges
        WHERE number = p_numbers[i] AND failures > 0 AND created_at > v_now - interval '1 day'
      ) s WHERE v_failed - s.cum < p_failed_per_day ORDER BY s.created_at LIMIT 1;
      o_outcome := 'limited'; o_limit := 'failed_validations'; o_retry_at := v_at; o_used := 0;
      RETURN NEXT;
      CONTINUE;
    END IF;

    -- A sliding window is full when it holds a max-th most recent call; a slot frees when
    -- that call leaves the window.
    IF v_recent >= p_per_number_10_min THEN
      SELECT created_at INTO v_at FROM challenges WHERE number = p_numbers[i] AND created_at > v_now - interval '10 minutes'
      ORDER BY created_at DESC OFFSET p_per_number_10_min - 1 LIMIT 1;
      o_outcome := 'limited'; o_limit := 'calls_per_number_per_10_min'; o_retry_at := v_at + interval '10 minutes'; o_used := 0;
      RETURN NEXT;
      CONTINUE;
    END IF;
    IF v_today >= p_per_number_day THEN
      SELECT created_at INTO v_at FROM challenges WHERE number = p_numbers[i] AND created_at > v_now - interval '1 day'
      ORDER BY created_at DESC OFFSET p_per_number_day - 1 LIMIT 1;
      o_outcome := 'limited'; o_limit := 'calls_per_number_per_day'; o_retry_at := v_at + interval '1 day'; o_used := 0;
      RETURN NEXT;
      CONTINUE;
    END IF;
    SELECT created_at INTO v_at FROM challenges WHERE number_prefix = p_prefixes[i] AND created_at > v_now - interval '1 hour'
    ORDER BY created_at DESC OFFSET p_per_prefix_hour - 1 LIMIT 1;
    IF FOUND THEN
      o_outcome := 'limited'; o_limit := 'calls_per_prefix_per_hour'; o_retry_at := v_at + interval '1 hour'; o_used := 0;
      RETURN NEXT;
      CONTINUE;
    END IF;
    IF p_client_ips[i] IS NOT NULL THEN
      SELECT created_at INTO v_at FROM challenges WHERE client_ip = p_client_ips[i] AND created_at > v_now - interval '1 hour'
      ORDER BY created_at DESC OFFSET p_per_ip_hour - 1 LIMIT 1;
      IF FOUND THEN
        o_outcome := 'limited'; o_limit := 'calls_per_ip_per_hour'; o_retry_at := v_at + interval '1 hour'; o_used := 0;
        RETURN NEXT;
        CONTINUE;
      END IF;
    END IF;

    -- Wrong guesses on any unexpired, unapproved challenge of the number carry over:
    -- a resend never refills the guessing budget.
    IF o_used >= p_max_attempts THEN
      o_outcome := 'attempts_exhausted'; o_retry_at := coalesce(v_locked_until, v_now);
      RETURN NEXT;
      CONTINUE;
    END IF;

    -- The spend cap: the calls of this hour and the 23 before it. The earlier hours no
    -- longer change, so this hour's budget is known (read once per hour a batch spans),
    -- and it is split over up to 8 shard rows: a request takes a unit from a shard with
    -- room under that row's lock (held to commit), so concurrent batches rarely queue on
    -- one row and the shards never add up to more than the budget.
    v_hour := date_trunc('hour', v_now, 'UTC');
    IF v_counted_hour IS DISTINCT FROM v_hour THEN
      SELECT coalesce(sum(calls), 0) INTO v_before FROM call_counts
      WHERE hour > v_hour - interval '1 day' AND hour < v_hour;
      v_counted_hour := v_hour;
      v_budget := p_per_day - v_before;
      v_shards := least(8, greatest(v_budget, 1));
      -- The hour's rows exist before any is locked, so that a busy one can be passed by.
      INSERT INTO call_counts (hour, shard, calls) SELECT v_hour, g, 0 FROM generate_series(0, v_shards - 1) g
      ON CONFLICT DO NOTHING;
      -- Rows it created are held by this batch until it commits, as a unit's are.
      GET DIAGNOSTICS v_created = ROW_COUNT;
      IF v_created > 0 THEN
        v_held := greatest(v_held, (extract(epoch FROM v_hour)::bigint / 3600) * 16 + v_shards - 1);
      END IF;
      -- A full shard never gains room within its hour: those read full are not tried.
      SELECT coalesce(array_agg(c.shard), '{}') INTO v_full FROM call_counts c
      WHERE c.hour = v_hour AND c.shard < v_shards
        AND c.calls >= v_budget / v_shards + CASE WHEN c.shard < v_budget % v_shards THEN 1 ELSE 0 END;
    END IF;
    v_calls := NULL;
    v_busy := false;
    IF v_budget > 0 THEN
      FOR s IN 0 .. v_shards - 1 LOOP
        v_shard := (v_start + s) % v_shards;
        CONTINUE WHEN v_shard = ANY (v_full);
        -- Batches wait for shard rows only in (hour, shard) order: for a row after every
        -- one they hold. Two that waited in their own orders, each for the row the other
        -- held, deadlocked. A row before one it holds a batch takes only if no one holds it.
        v_order := (extract(epoch FROM v_hour)::bigint / 3600) * 16 + v_shard;
        IF v_order <= v_held AND v_order IS DISTINCT FROM v_taken THEN
          PERFORM 1 FROM call_counts WHERE hour = v_hour AND shard = v_shard FOR UPDATE SKIP LOCKED;
          v_busy := v_busy OR NOT FOUND;
          CONTINUE WHEN NOT FOUND;
        END IF;
        v_share := v_budget / v_shards + CASE WHEN v_shard < v_budget % v_shards THEN 1 ELSE 0 END;
        UPDATE call_counts SET calls = calls + 1 WHERE hour = v_hour AND shard = v_shard AND calls < v_share
        RETURNING calls INTO v_calls;
        IF v_calls IS NOT NULL THEN
          v_held := greatest(v_held, v_order);
          v_taken := v_order;
          EXIT;
        END IF;
        v_full := v_full || v_shard;
      END LOOP;
    END IF;
    IF v_calls IS NULL AND v_busy THEN
      -- Only shards other batches hold have room: the request is handed back, to go again
      -- in a batch of its own making (src/otp/challenges.ts).
      o_outcome := 'busy'; o_used := 0;
      RETURN NEXT;
      CONTINUE;
    END IF;
    IF v_calls IS NULL THEN
      -- Full until enough of the oldest hours leave the window.
      SELECT s.hour + interval '1 day' INTO v_at FROM (
        SELECT h.hour, sum(h.calls) OVER (ORDER BY h.hour) AS cum
        FROM (SELECT hour, sum(calls) AS calls FROM call_counts
              WHERE hour > v_hour - interval '1 day' AND hour <= v_hour GROUP BY hour) h
      ) s WHERE (SELECT sum(calls) FROM call_counts WHERE hour > v_hour - interval '1 day' AND hour <= v_hour) - s.cum < p_per_day
      ORDER BY s.hour LIMIT 1;
      o_outcome := 'limited'; o_limit := 'calls_per_day'; o_retry_at := coalesce(v_at, v_hour + interval '1 day'); o_used := 0;
      RETURN NEXT;
      CONTINUE;
    END IF;

    UPDATE challenges
    SET status = CASE WHEN expires_at <= v_now THEN 'expired' ELSE 'superseded' END,
        code_mac = NULL, code_sealed = NULL, ended_at = v_now
    WHERE number = p_numbers[i] AND status = 'pending';
    INSERT INTO challenges (id, number, number_prefix, client_ip, status, code_mac, code_sealed, language, gate_digit,
                            attempts, max_attempts, carrier, api_key_name, created_at, expires_at)
    VALUES (p_ids[i], p_numbers[i], p_prefixes[i], p_client_ips[i], 'pending', p_code_macs[i], p_code_sealeds[i], p_languages[i],
            p_gate_digits[i], o_used, p_max_attempts, p_carriers[i], p_api_key_names[i], v_now, p_expires_ats[i]);
    o_outcome := 'issued';
    RETURN NEXT;
  END LOOP;
END
$$;

import { type Kysely, sql } from "kysely";

// Frozen in time. Its name sorts after every migration before it (Kysely refuses a new migration that sorts before
// one a database has run). Issue 19, ADR 0009: on PostgreSQL a code verify is decided by one statement,
// `select * from twofold_decide_attempt(…)`, instead of a transaction of five or more round trips. The
// function is that statement's body, so it runs as one implicit transaction (synchronous_commit stays on:
// the answer is sent only after its COMMIT is durable). It does, on the user's row held FOR UPDATE, what
// services/proofs.ts attemptProof does inside its transaction, from a plan computed in Node:
//   1. the user's row, held (an id with no row first gets its attempt record, V-12a);
//   2. locked or throttled now: answered as such, nothing written (R-OTP-6);
//   3. the success effects in order, each `UPDATE factors … WHERE active AND last_used_step < step`, the same
//      conditional update as consumeStep: the first that finds its row is the success and its row count is the
//      decision (R-OTP-1, V-3); on success the failure count is cleared and verification.succeeded appended;
//   4. none applied: the plan's failure (a step spent meanwhile is a replay), counted once on the held row:
//      count + 1, the throttle delay from the plan's table (indexed by the new count, so the SQL holds no copy
//      of the formula), the lock at lock_after, the attempt record's expiry moved on; then the events
//      (verification.replay_rejected, verification.failed, user.locked) with the same rows, data and outbox
//      fan-out as appendEvent writes (repositories/events.ts).
// Names are resolved through the caller's search_path, like every other statement, so two deployments (or test
// schemas) in one database each call their own. SQLite has no such functions and needs none (its writer is one
// local call); this migration does nothing there.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
	if (dialect !== "postgres") return;
	await sql`
create function twofold_append_event(p_id text, p_tenant_id text, p_user_id text, p_type text, p_factor_id text, p_data text, p_created_at bigint)
returns void language plpgsql as $fn$
begin
	insert into events (id, tenant_id, user_id, type, factor_id, data, created_at)
	values (p_id, p_tenant_id, p_user_id, p_type, p_factor_id, p_data, p_created_at);
	-- The transactional outbox (issue 5, D-4): one delivery per enabled endpoint subscribed to the type or to "*".
	insert into webhook_deliveries (tenant_id, webhook_id, event_id, event_type, user_id, factor_id, data, event_created_at, status, attempts, next_attempt_at)
	select s.tenant_id, s.webhook_id, p_id, p_type, p_user_id, p_factor_id, p_data, p_created_at, 'pending', 0, p_created_at
	from webhook_subscriptions s
	join webhooks w on w.tenant_id = s.tenant_id and w.id = s.webhook_id
	where s.tenant_id = p_tenant_id and s.event_type in (p_type, '*') and w.enabled = 1;
end
$fn$`.execute(db);

	await sql`
create function twofold_decide_attempt(
	p_tenant_id text,
	p_user_id text,
	p_now bigint,
	p_record_ttl_ms bigint,
	p_factor_ids text[],
	p_steps bigint[],
	p_methods text[],
	p_failure_reason text,
	p_failure_factor_id text,
	p_failure_method text,
	p_purpose text,
	p_lock_after integer,
	p_delays integer[],
	p_event_ids text[]
)
returns table (decision text, decided_factor_id text, failure_count integer, locked_now boolean, retry_after integer)
language plpgsql as $fn$
declare
	held record;
	k integer;
	failures integer;
	delay integer;
	is_record boolean;
	event_user text;
	about text;
begin
	select u.failed_attempts, u.next_attempt_at, u.locked_at, u.record_expires_at into held
	from users u where u.tenant_id = p_tenant_id and u.id = p_user_id for update;
	if not found then
		-- V-12a: an id with no row gets its attempt record, counted like a user. A concurrent insert of the same id
		-- makes this one wait and do nothing; the read after it (a new snapshot) then finds and holds that row.
		insert into users (tenant_id, id, created_at, failed_attempts, next_attempt_at, locked_at, email, record_expires_at)
		values (p_tenant_id, p_user_id, p_now, 0, 0, null, null, p_now + p_record_ttl_ms)
		on conflict (tenant_id, id) do nothing;
		select u.failed_attempts, u.next_attempt_at, u.locked_at, u.record_expires_at into held
		from users u where u.tenant_id = p_tenant_id and u.id = p_user_id for update;
	end if;
	-- Locked or throttled on the row as it is now, whatever Node read before: refused unevaluated, nothing written.
	if held.locked_at is not null then
		return query select 'locked'::text, null::text, held.failed_attempts::integer, false, 0;
		return;
	end if;
	if held.next_attempt_at > p_now then
		return query select 'throttled'::text, null::text, held.failed_attempts::integer, false, ceil((held.next_attempt_at - p_now) / 1000.0)::integer;
		return;
	end if;

	for k in 1 .. coalesce(array_length(p_factor_ids, 1), 0) loop
		-- consumeStep's conditional update (repositories/factors.ts): the linearization point (R-OTP-1, V-3).
		update factors f set last_used_step = p_steps[k], last_used_at = p_now, needs_resync = 0
		where f.tenant_id = p_tenant_id and f.user_id = p_user_id and f.id = p_factor_ids[k] and f.status = 'active' and f.last_used_step < p_steps[k];
		if found then
			if held.failed_attempts > 0 then
				update users u set failed_attempts = 0, next_attempt_at = 0 where u.tenant_id = p_tenant_id and u.id = p_user_id;
			end if;
			perform twofold_append_event(p_event_ids[1], p_tenant_id, p_user_id, 'verification.succeeded', p_factor_ids[k],
				format('{"purpose":%s,"method":%s}', to_json(p_purpose), to_json(p_methods[k])), p_now);
			return query select 'success'::text, p_factor_ids[k], 0, false, 0;
			return;
		end if;
	end loop;

	-- No effect applied: the plan's failure, counted exactly once on the held row (R-OTP-6).
	failures := held.failed_attempts + 1;
	is_record := held.record_expires_at is not null;
	-- An attempt record's events name no user: the id goes in the data (ADR 0002).
	event_user := case when is_record then null else p_user_id end;
	about := case when is_record then format(',"unknown_user_id":%s', to_json(p_user_id)) else '' end;
	-- The table's last entry holds for every higher count (the doubling has reached its cap there).
	delay := p_delays[least(failures, array_length(p_delays, 1))];
	update users u set
		failed_attempts = failures,
		next_attempt_at = case when delay > 0 then p_now + delay * 1000::bigint else 0 end,
		-- Only an admin unlock clears a recorded lock (R-OTP-6); the row is not locked here (checked above).
		locked_at = coalesce(u.locked_at, case when failures >= p_lock_after then p_now end),
		record_expires_at = case when is_record then p_now + p_record_ttl_ms end
	where u.tenant_id = p_tenant_id and u.id = p_user_id;
	if p_failure_reason = 'replay' then
		-- R-OTP-9: the caller sees the same answer as a wrong code; the audit trail tells the truth.
		perform twofold_append_event(p_event_ids[2], p_tenant_id, event_user, 'verification.replay_rejected', p_failure_factor_id,
			format('{"purpose":%s,"method":%s}', to_json(p_purpose), to_json(p_failure_method)), p_now);
	end if;
	perform twofold_append_event(p_event_ids[3], p_tenant_id, event_user, 'verification.failed', null,
		format('{"purpose":%s,"reason":%s,"failed_attempts":%s%s}', to_json(p_purpose), to_json(p_failure_reason), failures, about), p_now);
	if failures >= p_lock_after then
		perform twofold_append_event(p_event_ids[4], p_tenant_id, event_user, 'user.locked', null, format('{"failed_attempts":%s%s}', failures, about), p_now);
	end if;
	return query select 'failure'::text, p_failure_factor_id, failures, failures >= p_lock_after, 0;
end
$fn$`.execute(db);
}

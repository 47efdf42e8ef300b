/** Rows of the prompt's tables for tests that put state in the store directly (the sweep, master-key rotation). */
/** A prompt_sessions row; `expires_at` decides whether the sweep may take it. */
export const promptSessionRow = (tenantId: string, id: string, expiresAt: number) => ({
	id_hash: id,
	tenant_id: tenantId,
	interaction_uid: `uid_${id}`,
	user_id: "alice",
	proved_at: null,
	proved_method: null,
	proof_envelope: null,
	pending_factor_id: null,
	enrollment_envelope: null,
	recovery_codes_envelope: null,
	email_challenge_id: null,
	created_at: expiresAt - 60_000,
	expires_at: expiresAt,
});
export const oidcPayloadRow = (tenantId: string, id: string, expiresAt: number) => ({
	tenant_id: tenantId,
	model: "Interaction",
	id_hash: id,
	grant_id: null,
	uid_hash: null,
	payload: "{}",
	expires_at: expiresAt,
	consumed_at: null,
});

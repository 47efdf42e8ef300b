import { envelopeKeyId, resealSecret } from "../core/envelope.js";
import type { SealedSecret } from "../store/store.js";
import { factorAssociatedData } from "../factors/factor-secret.js";
import { type KeyDeps, signingKeyAssociatedData } from "./signing-keys.js";
import { clientSecretData } from "./client-secret.js";
import { webhookSecretData } from "./webhooks.js";

const PAGE = 500;

/**
 * The configured master keys cannot open every stored secret (D-8). The service knows no configuration:
 * app.ts, which read the keys from it, reports this as the configuration error it is.
 */
export class KeyringMismatchError extends Error {
	override readonly name = "KeyringMismatchError";
}

/**
 * D-8: a node whose master keys cannot open every stored secret refuses to
 * start, naming the missing key ids. Started anyway, it would answer the
 * users of those secrets with errors (never "valid", R-ST-6, but never right either).
 */
export async function assertKeyringOpensStore(deps: KeyDeps): Promise<void> {
	const missing = (await deps.store.sealedSecrets.keyIds()).filter((id) => !deps.keyring.keys.has(id));
	if (missing.length > 0) {
		throw new KeyringMismatchError(
			`stored secrets are sealed under master key id(s) ${missing.join(", ")}, which the configured master keys do not include; ` +
				"add the previous key after the active one (TWOFOLD_MASTER_KEY=new,old or one key a line in TWOFOLD_MASTER_KEY_FILE), or use the right key",
		);
	}
}

function associatedDataOf(secret: SealedSecret): string {
	switch (secret.kind) {
		case "factor":
			return factorAssociatedData({ tenant_id: secret.tenant_id!, user_id: secret.user_id!, id: secret.id });
		case "signing_key":
			return signingKeyAssociatedData(secret.id);
		case "webhook":
		case "webhook_previous":
			return webhookSecretData({ tenant_id: secret.tenant_id!, id: secret.id });
		case "client_secret":
			return clientSecretData({ tenant_id: secret.tenant_id!, id: secret.id });
	}
}

export interface RewrapReport {
	active_key_id: string;
	examined: number;
	rewrapped: number;
	/** Changed by the service while being rewrapped (a new enrollment, a rotated webhook secret): sealed under the active key by that change already, or gone. */
	skipped: number;
	/** Key ids still referenced afterwards: [active] when the old keys can be removed. */
	key_ids_in_use: string[];
}

/**
 * `twofold keys rewrap` (R-ST-3): seals every stored secret again under the
 * active master key, page by page while the service runs. Each row is
 * replaced only if it still holds the envelope that was read, so a concurrent
 * change is never overwritten; every replaced envelope is one the nodes can
 * open (they all have both keys by then, see docs/deploy.md), so no verify fails.
 */
export async function rewrapSecrets(deps: KeyDeps, options: { pageSize?: number } = {}): Promise<RewrapReport> {
	let examined = 0;
	let rewrapped = 0;
	let skipped = 0;
	let after: SealedSecret | null = null;
	for (;;) {
		const page: SealedSecret[] = await deps.store.sealedSecrets.page(after, options.pageSize ?? PAGE);
		if (page.length === 0) break;
		for (const secret of page) {
			examined++;
			if (envelopeKeyId(secret.envelope) === deps.keyring.activeKeyId) continue;
			const next = resealSecret(deps.keyring, secret.envelope, associatedDataOf(secret), deps.random);
			if (next === null) continue;
			if (await deps.store.sealedSecrets.replace(secret, next)) rewrapped++;
			else skipped++;
		}
		const last: SealedSecret = page.at(-1)!;
		if (last.kind !== "factor") break;
		after = last;
	}
	return { active_key_id: deps.keyring.activeKeyId, examined, rewrapped, skipped, key_ids_in_use: await deps.store.sealedSecrets.keyIds() };
}

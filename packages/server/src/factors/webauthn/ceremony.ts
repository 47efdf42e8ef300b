import {
	generateAuthenticationOptions,
	generateRegistrationOptions,
	verifyAuthenticationResponse,
	verifyRegistrationResponse,
	type AuthenticationResponseJSON,
	type PublicKeyCredentialCreationOptionsJSON,
	type PublicKeyCredentialRequestOptionsJSON,
	type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import type { WebAuthnSettings } from "../../contract/tenant-settings.js";
import { type AttestationTrust, judgeAttestation, NO_TRUST } from "./attestation.js";
import { type CeremonyRefusal, refusal, refusalFromError } from "./ceremony-refusal.js";

/**
 * The WebAuthn ceremonies (WebAuthn-3 §7.1, §7.2). @simplewebauthn/server checks
 * the client data (type, challenge, origin), the rpIdHash, the UP/UV flags and
 * the signature; this module adds the policy it leaves to us: no cross-origin
 * responses (V-15), the attestation and synced-passkey policy, and the user
 * handle. Challenge storage, single use and counters belong to the services.
 */

/** Challenges and pending registrations live at most five minutes (R-WA-2). */
export const CEREMONY_TIMEOUT_MS = 5 * 60 * 1000;
export const CHALLENGE_BYTES = 32;

export interface RelyingParty {
	id: string;
	name: string;
	origins: string[];
	userVerification: "required" | "preferred";
	attestation: "none" | "direct";
	allowSynced: boolean;
}

/** The tenant's relying party, or null until rp_id, rp_name and origins are set. */
export function relyingParty(settings: WebAuthnSettings): RelyingParty | null {
	if (settings.rp_id === null || settings.rp_name === null || settings.origins.length === 0) return null;
	return {
		id: settings.rp_id,
		name: settings.rp_name,
		origins: settings.origins,
		userVerification: settings.user_verification,
		attestation: settings.attestation,
		allowSynced: settings.allow_synced,
	};
}

/**
 * WebAuthn-3 §5.1.3: an origin may use an rp id equal to its host or a registrable suffix of it.
 * Origins are https, except http://localhost for development (a secure context in browsers).
 */
export function originsFitRelyingParty(rpId: string | null, origins: readonly string[]): boolean {
	return origins.every((origin) => {
		let url: URL;
		try {
			url = new URL(origin);
		} catch {
			return false;
		}
		if (url.origin !== origin) return false; // no path, query or trailing slash: an origin only
		if (url.protocol !== "https:" && !(url.protocol === "http:" && url.hostname === "localhost")) return false;
		return rpId !== null && (url.hostname === rpId || url.hostname.endsWith(`.${rpId}`));
	});
}

export function registrationOptions(
	rp: RelyingParty,
	input: { challenge: Uint8Array; userHandle: Uint8Array; userName: string; exclude: { id: string; transports: string[] }[] },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
	return generateRegistrationOptions({
		rpName: rp.name,
		rpID: rp.id,
		userName: input.userName,
		userID: new Uint8Array(input.userHandle),
		challenge: new Uint8Array(input.challenge),
		timeout: CEREMONY_TIMEOUT_MS,
		attestationType: rp.attestation,
		excludeCredentials: input.exclude,
		authenticatorSelection: { residentKey: "preferred", userVerification: rp.userVerification },
	});
}

export function authenticationOptions(
	rp: RelyingParty,
	input: { challenge: Uint8Array; allow: { id: string; transports: string[] }[] },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
	return generateAuthenticationOptions({
		rpID: rp.id,
		challenge: new Uint8Array(input.challenge),
		timeout: CEREMONY_TIMEOUT_MS,
		allowCredentials: input.allow,
		userVerification: rp.userVerification,
	});
}

/** V-15 (lbuchs/WebAuthn#124): a response made inside a cross-origin iframe is refused; there is no opt-in. */
function isCrossOrigin(clientDataJSON: unknown): boolean {
	if (typeof clientDataJSON !== "string") return true;
	try {
		const clientData = JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8")) as { crossOrigin?: unknown };
		return clientData.crossOrigin === true;
	} catch {
		return true;
	}
}

/** The credential's response object, or why there is none to check: missing, or made cross-origin (both ceremonies refuse either). */
function sameOriginResponse(credential: unknown): { ok: true; clientDataJSON?: unknown; userHandle?: unknown } | CeremonyRefusal {
	if (typeof credential !== "object" || credential === null) return refusal("malformed_response");
	const response = (credential as { response?: unknown }).response;
	if (typeof response !== "object" || response === null) return refusal("malformed_response");
	const fields = response as { clientDataJSON?: unknown; userHandle?: unknown };
	// Only the two fields read here, never a spread: the response is the client's object, and could carry an `ok` of its own.
	return isCrossOrigin(fields.clientDataJSON) ? refusal("cross_origin") : { ok: true, clientDataJSON: fields.clientDataJSON, userHandle: fields.userHandle };
}

export interface RegisteredCredential {
	credentialId: string;
	publicKey: string;
	counter: number;
	transports: string[];
	backedUp: boolean;
	deviceType: "singleDevice" | "multiDevice";
	aaguid: string;
	userVerified: boolean;
	/** The attestation chain reached a configured trust anchor (V-15); only then is the key "hwk". */
	attested: boolean;
	/** The MDS description of the attested model, when the MDS file has one. */
	model: string | null;
}

/** Verifies a registration response against the stored challenge; a refusal with its reason when anything fails. */
export async function checkRegistration(
	rp: RelyingParty,
	credential: unknown,
	expectedChallenge: string,
	trust: AttestationTrust = NO_TRUST,
): Promise<{ ok: true; credential: RegisteredCredential } | CeremonyRefusal> {
	const response = sameOriginResponse(credential);
	if (!response.ok) return response;
	try {
		const result = await verifyRegistrationResponse({
			response: credential as RegistrationResponseJSON,
			expectedChallenge,
			expectedOrigin: rp.origins,
			expectedRPID: rp.id,
			requireUserVerification: rp.userVerification === "required",
		});
		// Only an attestation statement whose signature does not verify gets here unverified.
		if (!result.verified) return refusal("bad_signature");
		const info = result.registrationInfo;
		// The library verified the statement's signature but not whom it chains to: that is decided here.
		const verdict = await judgeAttestation(trust, info);
		// attestation "direct" (V-15): "none", self attestation, or a chain to no configured root proves nothing about the authenticator.
		if (rp.attestation === "direct" && !verdict.trusted) return refusal("attestation_untrusted");
		if (!rp.allowSynced && (info.credentialDeviceType === "multiDevice" || info.credentialBackedUp)) return refusal("synced_not_allowed");
		const registered: RegisteredCredential = {
			credentialId: info.credential.id,
			publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
			counter: info.credential.counter,
			transports: info.credential.transports ?? [],
			backedUp: info.credentialBackedUp,
			deviceType: info.credentialDeviceType,
			aaguid: info.aaguid,
			userVerified: info.userVerified,
			attested: verdict.trusted,
			model: verdict.trusted ? verdict.model : null,
		};
		return { ok: true, credential: registered };
	} catch (error) {
		// Malformed CBOR, a wrong origin or challenge: one refusal to the client, the reason for the log.
		return refusalFromError(error);
	}
}

export interface CheckedAssertion {
	ok: true;
	newCounter: number;
	/** The UV flag: the authenticator verified the user (amr "user" in the step-up assertion). */
	userVerified: boolean;
}

/**
 * Verifies an assertion for one stored credential. The counter is checked by the
 * caller against the row it holds in the transaction (R-WA-3), so the library is
 * given counter 0, which makes it skip its own (non-transactional) comparison.
 */
export async function checkAssertion(
	rp: RelyingParty,
	credential: unknown,
	expectedChallenge: string,
	stored: { credentialId: string; publicKey: string; transports: string[]; userHandle: string },
): Promise<CheckedAssertion | CeremonyRefusal> {
	const response = sameOriginResponse(credential);
	if (!response.ok) return response;
	// V-15: a user handle, when the authenticator sends one, must be the one bound at registration.
	if (response.userHandle !== undefined && response.userHandle !== null && response.userHandle !== stored.userHandle) return refusal("user_handle_mismatch");
	try {
		const result = await verifyAuthenticationResponse({
			response: credential as AuthenticationResponseJSON,
			expectedChallenge,
			expectedOrigin: rp.origins,
			expectedRPID: rp.id,
			credential: { id: stored.credentialId, publicKey: Buffer.from(stored.publicKey, "base64url"), counter: 0, transports: stored.transports },
			requireUserVerification: rp.userVerification === "required",
		});
		// Everything else was checked before the signature, and threw when it failed.
		if (!result.verified) return refusal("bad_signature");
		return { ok: true, newCounter: result.authenticationInfo.newCounter, userVerified: result.authenticationInfo.userVerified };
	} catch (error) {
		return refusalFromError(error);
	}
}

/** R-WA-3 as SimpleWebAuthn words it: (new > 0 or stored > 0) and new ≤ stored is a regression. */
export function isCounterRegression(stored: number, next: number): boolean {
	return (next > 0 || stored > 0) && next <= stored;
}

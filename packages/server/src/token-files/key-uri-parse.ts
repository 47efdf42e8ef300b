import { asciiLowerCase } from "../core/ascii.js";
import type { OTPAlgorithm } from "./import-record.js";
import { algorithmField, base32Secret, type Checked, counterField, digitsField, periodField } from "./record-fields.js";

/**
 * One `otpauth://` URI read back (Key Uri Format, github.com/google/google-authenticator/wiki/Key-Uri-Format, the
 * format core/key-uri.ts writes): `otpauth://TYPE/LABEL?PARAMETERS`, LABEL being "issuer:account" or "account".
 */
export interface KeyURI {
	type: "totp" | "hotp";
	/** The label's issuer prefix, when it has one. */
	labelIssuer?: string;
	/** The `issuer` parameter, when given. */
	issuerParameter?: string;
	/** The label's account part (percent-decoded; the spaces the format allows after the colon removed, no others). */
	account: string;
	secret: Uint8Array;
	algorithm: OTPAlgorithm;
	digits: number;
	/** TOTP: `period`, 30 when absent. */
	period?: number;
	/**
	 * HOTP: `counter`, "the initial counter value" of the format: the counter of the next code the token shows, which
	 * is what ImportRecord.counter holds. Undefined when absent (the format requires it; without it the factor is
	 * imported needing resynchronization).
	 */
	counter?: number;
}

export const KEY_URI_SCHEME = "otpauth://";

/** The parameters the format defines; others (image, …) are ignored, these must not appear twice. */
const KNOWN = ["secret", "issuer", "algorithm", "digits", "period", "counter"] as const;

export function parseKeyURI(uri: string): Checked<KeyURI> {
	if (asciiLowerCase(uri.slice(0, KEY_URI_SCHEME.length)) !== KEY_URI_SCHEME) {
		return { ok: false, code: "invalid_uri", reason: "the URI does not start with otpauth://" };
	}
	const rest = uri.slice(KEY_URI_SCHEME.length).split("#", 1)[0]!;
	const slash = rest.indexOf("/");
	if (slash === -1) return { ok: false, code: "invalid_uri", reason: "the URI has no label (otpauth://TYPE/LABEL?secret=…)" };
	const type = asciiLowerCase(rest.slice(0, slash));
	if (type !== "totp" && type !== "hotp") return { ok: false, code: "unsupported_type", reason: "the URI's type must be totp or hotp" };

	const question = rest.indexOf("?", slash);
	const rawLabel = question === -1 ? rest.slice(slash + 1) : rest.slice(slash + 1, question);

	const parameters = new URLSearchParams(question === -1 ? "" : rest.slice(question + 1));
	const values: Partial<Record<(typeof KNOWN)[number], string>> = {};
	for (const name of KNOWN) {
		const all = parameters.getAll(name);
		// Two values for one parameter would leave it to chance which one the old system used.
		if (all.length > 1) return { ok: false, code: "invalid_uri", reason: `the URI gives the ${name} parameter more than once` };
		if (all.length === 1) values[name] = all[0]!.trim();
	}

	const label = splitLabel(rawLabel, values.issuer);
	if (label === undefined) return { ok: false, code: "invalid_uri", reason: "the URI's label is not percent-encoded UTF-8" };
	const { labelIssuer, account } = label;

	const algorithm = algorithmField(values.algorithm);
	if (!algorithm.ok) return algorithm;
	const digits = digitsField(values.digits);
	if (!digits.ok) return digits;
	let period: number | undefined;
	let counter: number | undefined;
	if (type === "totp") {
		const checked = periodField(values.period);
		if (!checked.ok) return checked;
		period = checked.value;
	} else if (values.counter !== undefined && values.counter !== "") {
		const checked = counterField(values.counter);
		if (!checked.ok) return checked;
		counter = checked.value;
	}
	// The secret last, so no refusal after it leaves a decoded secret behind.
	const secret = base32Secret(values.secret ?? "", "secret parameter");
	if (!secret.ok) return secret;

	const parsed: KeyURI = { type, account, secret: secret.value, algorithm: algorithm.value, digits: digits.value };
	if (labelIssuer !== undefined && labelIssuer !== "") parsed.labelIssuer = labelIssuer;
	if (values.issuer !== undefined && values.issuer !== "") parsed.issuerParameter = values.issuer;
	if (period !== undefined) parsed.period = period;
	if (counter !== undefined) parsed.counter = counter;
	return { ok: true, value: parsed };
}

/**
 * The label, "issuer:account" or "account" (Key Uri Format, "Label": `issuer (":" / "%3A") *"%20" accountname`).
 * The separator is the first LITERAL colon of the label as written, found before percent-decoding: an issuer may hold
 * an encoded colon (Twofold's export of a tenant named "Acme: EU" writes `Acme%3A%20EU:alice`), and so may an account.
 * Without a literal colon the format's encoded separator is looked for: after the issuer parameter when the label
 * starts with it, else at the first "%3A" when there is no issuer parameter; a label that does not start with its
 * issuer parameter is the account alone (Twofold's export writes that for a user id starting with a space, which no
 * "issuer:" prefix could carry). Only the spaces right after the separator are removed, as the format allows; the
 * account's other spaces (at its end, or at its start when there is no separator) are the user id's own.
 */
function splitLabel(rawLabel: string, issuerParameter: string | undefined): { labelIssuer?: string; account: string } | undefined {
	const decode = (text: string): string | undefined => {
		try {
			return decodeURIComponent(text);
		} catch {
			return undefined;
		}
	};
	const afterSeparator = (text: string): string => text.replace(/^ +/, "");
	const literal = rawLabel.indexOf(":");
	if (literal !== -1) {
		const issuer = decode(rawLabel.slice(0, literal));
		const account = decode(rawLabel.slice(literal + 1));
		if (issuer === undefined || account === undefined) return undefined;
		return { labelIssuer: issuer.trim(), account: afterSeparator(account) };
	}
	const label = decode(rawLabel);
	if (label === undefined) return undefined;
	if (issuerParameter !== undefined) {
		return label.startsWith(`${issuerParameter}:`) ? { labelIssuer: issuerParameter, account: afterSeparator(label.slice(issuerParameter.length + 1)) } : { account: label };
	}
	const colon = label.indexOf(":");
	return colon === -1 ? { account: label } : { labelIssuer: label.slice(0, colon).trim(), account: afterSeparator(label.slice(colon + 1)) };
}

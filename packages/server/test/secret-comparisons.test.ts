import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * R-OTP-10, V-14 (lint half): every comparison of a secret, code, hash, MAC, signature or key goes
 * through the one constant-time helper, core/constant-time.ts. Checked on the type-checked AST of
 * all of packages/*\/src (server and SDK, tests excluded), so no spelling escapes a regex:
 *
 * 1. `timingSafeEqual` is called only inside the helper (one helper, one length rule).
 * 2. `Buffer.compare(...)`, `x.compare(...)` and `x.equals(...)` on bytes are forbidden everywhere
 *    (memcmp stops at the first difference).
 * 3. `===`, `!==`, `==`, `!=`, `localeCompare` on a secret-like value are forbidden. Secret-like: the
 *    operand is an identifier, property, element or call whose name's last word is one of SECRET_WORDS
 *    (camelCase and snake_case words; "keyId", "codeLength" end in a public word and are not), and its
 *    type is string, Buffer, Uint8Array or ArrayBuffer (optionally | null | undefined). A comparison
 *    with a literal type (a constant such as "invalid_code" or VERSION), with null or undefined, or
 *    with a number is not a secret comparison: the other side is public.
 *
 * ALLOWED lists the exceptions, each with its reason; an entry that no longer matches fails too, so
 * the list cannot rot.
 */
export const SECRET_WORDS = new Set(["hash", "hashes", "mac", "hmac", "secret", "secrets", "digest", "signature", "sig", "code", "codes", "token", "otp", "password", "passcode", "pin", "key", "challenge", "tag", "assertion", "envelope", "salt"]);

/** "file: expression" of the comparisons allowed (no line numbers, so edits elsewhere do not rot it), with why. Keep this short. */
export const ALLOWED: Record<string, string> = {
	"packages/sdk/src/verify-assertion.ts: claims.action_hash !== expected":
		"action_hash is a public SHA-256 of the operation, read from a token whose Ed25519 signature jose has already verified; " +
		"nothing secret is compared, and the SDK (a separate package, also run in browsers' bundlers) does not import the server's helper.",
	"packages/sdk/src/prompt-checks.ts: (claims.action_hash ?? null) !== session.actionHash":
		"the same public SHA-256 of the operation, in the prompt's id_token, read after jose verified its signature (issue 15).",
	'packages/server/src/services/imports.ts: Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))':
		"a sort, not a check: an import batch's user ids (not secrets) put in UTF-8 byte order, the order PostgreSQL's COLLATE \"C\" locks them in, so two concurrent imports lock their users in one order (issue 17).",
};

const root = new URL("../../../", import.meta.url).pathname;
const HELPER = "packages/server/src/core/constant-time.ts";

function program(): ts.Program {
	const files: string[] = [];
	for (const pkg of readdirSync(join(root, "packages"))) {
		const configPath = join(root, "packages", pkg, "tsconfig.json");
		const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n")); } });
		if (parsed === undefined) throw new Error(`cannot read ${configPath}`);
		files.push(...parsed.fileNames.filter((file) => !file.endsWith(".test.ts")));
	}
	const base = ts.getParsedCommandLineOfConfigFile(join(root, "packages/sdk/tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
	return ts.createProgram(files, { ...base.options, noEmit: true });
}

/** The words of a name: "hashAPIKeySecret" → hash, api, key, secret; "secret_hash" → secret, hash. */
export function words(name: string): string[] {
	return name
		.replace(/([a-z0-9])([A-Z])/g, "$1 $2")
		.replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
		.split(/[\s_\-$]+/)
		.filter((word) => word.length > 0)
		.map((word) => word.toLowerCase());
}

function unwrap(node: ts.Node): ts.Node {
	let current = node;
	while (ts.isParenthesizedExpression(current) || ts.isNonNullExpression(current) || ts.isAsExpression(current) || ts.isAwaitExpression(current)) current = current.expression;
	return current;
}

function nameOf(node: ts.Expression): string | undefined {
	const current = unwrap(node);
	if (ts.isIdentifier(current)) return current.text;
	if (ts.isPropertyAccessExpression(current)) return current.name.text;
	if (ts.isElementAccessExpression(current)) return ts.isStringLiteral(current.argumentExpression) ? current.argumentExpression.text : nameOf(current.expression);
	if (ts.isCallExpression(current)) return nameOf(current.expression);
	return undefined;
}

/** Calls that only convert a value: the result is as secret as what goes in. */
const CONVERSIONS = new Set(["toString", "toLowerCase", "toUpperCase", "trim", "normalize", "slice", "subarray", "substring", "replace", "replaceAll", "from", "String", "padStart", "padEnd", "concat", "toJSON", "join", "encodeURIComponent"]);

/**
 * The names an operand carries: its own, and for a conversion also its receiver's and its
 * arguments' (so `expected.toString("hex")`, `Buffer.from(code)` and `String(mac)` are seen as what
 * they convert, while `envelopeKeyId(envelope)` is a key id, public).
 */
function namesOf(node: ts.Expression): string[] {
	const current = unwrap(node);
	const names = [nameOf(current as ts.Expression)];
	if (ts.isCallExpression(current) && CONVERSIONS.has(nameOf(current.expression) ?? "")) {
		if (ts.isPropertyAccessExpression(current.expression)) names.push(...namesOf(current.expression.expression));
		for (const argument of current.arguments) names.push(...namesOf(argument));
	}
	if (ts.isTemplateExpression(current)) for (const span of current.templateSpans) names.push(...namesOf(span.expression));
	return names.filter((name): name is string => name !== undefined);
}

export const secretLikeName = (name: string | undefined): boolean => {
	if (name === undefined) return false;
	const list = words(name);
	return list.length > 0 && SECRET_WORDS.has(list.at(-1)!);
};

function isBytesOrString(type: ts.Type, checker: ts.TypeChecker): boolean {
	if (type.isUnion()) {
		const parts = type.types.filter((part) => !(part.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)));
		return parts.length > 0 && parts.every((part) => isBytesOrString(part, checker));
	}
	if (type.flags & ts.TypeFlags.String) return true;
	if (type.flags & ts.TypeFlags.StringLiteral) return false;
	const symbol = type.getSymbol() ?? type.aliasSymbol;
	const name = symbol?.getName() ?? checker.typeToString(type);
	return /^(Buffer|Uint8Array|ArrayBuffer|ArrayBufferLike|NonSharedBuffer)$/.test(name) || /^(Buffer|Uint8Array)</.test(checker.typeToString(type));
}

/** A public value: a literal type or a union of them, null, undefined, a number or boolean. */
function isPublicConstant(type: ts.Type): boolean {
	if (type.isUnion()) return type.types.every(isPublicConstant);
	return (type.flags & (ts.TypeFlags.Literal | ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void | ts.TypeFlags.NumberLike | ts.TypeFlags.BooleanLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.EnumLike)) !== 0;
}

export interface Finding {
	where: string;
	line: number;
	rule: string;
}

export function findSecretComparisons(): Finding[] {
	const prog = program();
	const checker = prog.getTypeChecker();
	const findings: Finding[] = [];
	for (const file of prog.getSourceFiles()) {
		if (file.isDeclarationFile || !file.fileName.startsWith(join(root, "packages")) || !file.fileName.includes("/src/")) continue;
		const path = relative(root, file.fileName);
		const report = (node: ts.Node, rule: string): void => {
			const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
			findings.push({ where: `${path}: ${node.getText(file).replace(/\s+/g, " ").slice(0, 120)}`, line: line + 1, rule });
		};
		const visit = (node: ts.Node): void => {
			if (ts.isCallExpression(node)) {
				const callee = node.expression;
				const called = nameOf(callee);
				if (called === "timingSafeEqual" && path !== HELPER) report(node, "timingSafeEqual outside the constant-time helper");
				if (ts.isPropertyAccessExpression(callee) && (called === "compare" || called === "equals")) {
					const receiver = checker.getTypeAtLocation(callee.expression);
					const receiverText = callee.expression.getText(file);
					if (receiverText === "Buffer" || isBytesOrString(receiver, checker)) report(node, `${receiverText}.${called} compares bytes with an early exit`);
				}
				if (ts.isPropertyAccessExpression(callee) && called === "localeCompare" && [callee.expression, ...node.arguments].some((operand) => namesOf(operand).some(secretLikeName))) {
					report(node, "localeCompare on a secret-like value");
				}
			}
			if (ts.isBinaryExpression(node)) {
				const kind = node.operatorToken.kind;
				if (kind === ts.SyntaxKind.EqualsEqualsEqualsToken || kind === ts.SyntaxKind.ExclamationEqualsEqualsToken || kind === ts.SyntaxKind.EqualsEqualsToken || kind === ts.SyntaxKind.ExclamationEqualsToken) {
					const sides = [node.left, node.right];
					const types = sides.map((side) => checker.getTypeAtLocation(side));
					if (!types.some(isPublicConstant)) {
						const secret = sides.some((side, i) => namesOf(side).some(secretLikeName) && isBytesOrString(types[i]!, checker));
						if (secret) report(node, `${node.operatorToken.getText(file)} on a secret-like value`);
					}
				}
			}
			ts.forEachChild(node, visit);
		};
		visit(file);
	}
	return findings;
}

describe("secret comparisons (R-OTP-10, V-14): the type-checked AST of every src file", () => {
	const findings = findSecretComparisons();

	it("go only through core/constant-time.ts: no ===, ==, Buffer.compare, .equals or timingSafeEqual elsewhere on secrets", () => {
		const unexplained = findings.filter((finding) => !(finding.where in ALLOWED));
		expect(unexplained.map((finding) => `${finding.where}  (line ${finding.line}: ${finding.rule})`)).toEqual([]);
	});

	it("the allow-list has no stale entries", () => {
		const seen = new Set(findings.map((finding) => finding.where));
		expect(Object.keys(ALLOWED).filter((where) => !seen.has(where))).toEqual([]);
	});

	it("the recognizer sees secret names and skips public ones", () => {
		for (const name of ["secret_hash", "hashAPIKeySecret", "code", "expectedMac", "apiKey", "signature", "row.challenge"]) expect(secretLikeName(name.split(".").at(-1)), name).toBe(true);
		for (const name of ["keyId", "activeKeyId", "codeLength", "kind", "tenantId", "hashLength"]) expect(secretLikeName(name), name).toBe(false);
	});
});

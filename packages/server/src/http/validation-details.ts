import type { FastifySchemaValidationError } from "fastify";
import { patternExpectation } from "../contract/schemas/patterns.js";
import { pointerToken, type ValidationDetail } from "../contract/validation-detail.js";

/** Enough for any real mistake; bounds the answer to a body with thousands of bad entries. */
const MAX_DETAILS = 20;
/** A property name is named in full up to this length (an extra field's name is the client's own text). */
const MAX_NAME_LENGTH = 64;

const LOCATIONS: Record<string, ValidationDetail["in"]> = { body: "body", querystring: "query", params: "path", headers: "header" };

type Schema = Record<string, unknown>;

/**
 * Ajv's errors (allErrors, no verbose: the failing value is never copied)
 * turned into one detail per problem, each with the field's JSON pointer and
 * what was expected (issue 13). Ajv's own messages name a rule ("must be
 * equal to constant", "must match a schema in anyOf") rather than the
 * expectation; the allowed values, limits and field names come from the
 * route's schema at the error's schemaPath. No value from the request is
 * read, so none can appear in an answer (R-ST-4).
 */
export function validationDetails(errors: readonly FastifySchemaValidationError[], context: string, rootSchema: unknown): ValidationDetail[] {
	const location = LOCATIONS[context] ?? "body";
	// A union's failed branches are summarized by the union's own error: one problem, one message.
	const unions = errors.filter((error) => error.keyword === "anyOf" || error.keyword === "oneOf").map((error) => error.schemaPath);
	const details: ValidationDetail[] = [];
	const seen = new Set<string>();
	for (const error of errors) {
		if (unions.some((union) => error.schemaPath.startsWith(`${union}/`))) continue;
		const { pointer, message } = describe(error, errors, rootSchema);
		const key = `${pointer}\n${message}`;
		if (seen.has(key)) continue;
		seen.add(key);
		details.push({ in: location, pointer, message });
		if (details.length === MAX_DETAILS) break;
	}
	return details;
}

function describe(error: FastifySchemaValidationError, all: readonly FastifySchemaValidationError[], root: unknown): { pointer: string; message: string } {
	const params = error.params as Record<string, unknown>;
	const at = error.instancePath;
	const parent = schemaAt(root, parentPath(error.schemaPath));
	switch (error.keyword) {
		case "required":
			return { pointer: `${at}/${nameToken(params.missingProperty)}`, message: "is required" };
		case "additionalProperties": {
			const allowed = Object.keys(asSchema(parent?.properties) ?? {});
			return {
				pointer: `${at}/${nameToken(params.additionalProperty)}`,
				message: allowed.length === 0 ? "is not an allowed field" : `is not an allowed field here; allowed: ${allowed.join(", ")}`,
			};
		}
		case "discriminator": {
			const tag = String(params.tag);
			const values = variantTags(parent, tag);
			return { pointer: `${at}/${nameToken(tag)}`, message: values.length === 0 ? "must name a known variant" : `must be one of: ${values.join(", ")}` };
		}
		case "anyOf":
		case "oneOf":
			return { pointer: at, message: unionExpectation(schemaAt(root, error.schemaPath), error, all) };
		case "type":
			return { pointer: at, message: `must be ${typeNames(params.type)}` };
		case "const":
			return { pointer: at, message: `must be ${JSON.stringify(params.allowedValue)}` };
		case "enum":
			return { pointer: at, message: `must be one of: ${(params.allowedValues as unknown[]).map(show).join(", ")}` };
		case "minLength":
			return { pointer: at, message: params.limit === 1 ? "must not be empty" : `must be at least ${String(params.limit)} characters long` };
		case "maxLength":
			return { pointer: at, message: `must be at most ${String(params.limit)} characters long` };
		case "minimum":
		case "maximum":
			return { pointer: at, message: rangeExpectation(parent, params) };
		case "minItems":
			return { pointer: at, message: `must have at least ${String(params.limit)} item${params.limit === 1 ? "" : "s"}` };
		case "maxItems":
			return { pointer: at, message: `must have at most ${String(params.limit)} items` };
		case "minProperties": {
			const fields = Object.keys(asSchema(parent?.properties) ?? {});
			return { pointer: at, message: fields.length === 0 ? "must not be empty" : `must have at least one of: ${fields.join(", ")}` };
		}
		case "pattern":
			return { pointer: at, message: patternExpectation(String(params.pattern)) };
		case "format":
			return { pointer: at, message: `must be a ${String(params.format)}` };
		default:
			// Ajv's messages name the rule and its limit, never the value (verbose is off).
			return { pointer: at, message: error.message ?? "is not valid" };
	}
}

/** A union of constants (an enum written as anyOf) lists them; otherwise the branches' types, or their count. */
function unionExpectation(union: unknown, error: FastifySchemaValidationError, all: readonly FastifySchemaValidationError[]): string {
	const branches = Array.isArray(union) ? (union as unknown[]).map(asSchema) : [];
	if (branches.length > 0 && branches.every((branch) => branch !== undefined && "const" in branch)) {
		return `must be one of: ${branches.map((branch) => show(branch?.const)).join(", ")}`;
	}
	const types = all
		.filter((other) => other.keyword === "type" && other.instancePath === error.instancePath && other.schemaPath.startsWith(`${error.schemaPath}/`))
		.map((other) => typeNames((other.params as Record<string, unknown>).type));
	if (types.length > 0) return `must be ${[...new Set(types)].join(" or ")}`;
	return `must match one of the ${branches.length > 0 ? branches.length : "allowed"} forms in the API reference (/docs)`;
}

function rangeExpectation(parent: Schema | undefined, params: Record<string, unknown>): string {
	const { minimum, maximum } = parent ?? {};
	const integer = parent?.type === "integer" ? "a whole number " : "";
	if (typeof minimum === "number" && typeof maximum === "number") return `must be ${integer}from ${minimum} to ${maximum}`;
	return `must be ${params.comparison === "<=" ? "at most" : "at least"} ${String(params.limit)}`;
}

/** The values of the discriminator's property across the oneOf variants. */
function variantTags(schema: Schema | undefined, tag: string): string[] {
	const variants = Array.isArray(schema?.oneOf) ? (schema.oneOf as unknown[]) : [];
	return variants.flatMap((variant) => {
		const property = asSchema(asSchema(asSchema(variant)?.properties)?.[tag]);
		return property !== undefined && "const" in property ? [show(property.const)] : [];
	});
}

const TYPE_NAMES: Record<string, string> = {
	string: "a string",
	integer: "an integer",
	number: "a number",
	boolean: "true or false",
	object: "a JSON object",
	array: "an array",
	null: "null",
};

function typeNames(type: unknown): string {
	return String(type)
		.split(",")
		.map((name) => TYPE_NAMES[name] ?? name)
		.join(" or ");
}

/** Constants from the schema, shown as in JSON but strings bare: totp, 6, true. */
function show(value: unknown): string {
	return typeof value === "string" ? value : JSON.stringify(value);
}

/** A property name of the request as a pointer token, cut short if long. */
function nameToken(name: unknown): string {
	const text = String(name);
	return pointerToken(text.length > MAX_NAME_LENGTH ? `${text.slice(0, MAX_NAME_LENGTH)}…` : text);
}

function parentPath(schemaPath: string): string {
	return schemaPath.slice(0, Math.max(0, schemaPath.lastIndexOf("/")));
}

function asSchema(value: unknown): Schema | undefined {
	return typeof value === "object" && value !== null ? (value as Schema) : undefined;
}

/** The subschema at an Ajv schemaPath ("#/properties/totp/anyOf"); undefined past a $ref or a wrong turn. */
function schemaAt(root: unknown, schemaPath: string): Schema | undefined {
	if (!schemaPath.startsWith("#")) return undefined;
	let node: unknown = root;
	for (const token of schemaPath.slice(1).split("/").slice(1)) {
		const key = decodeURIComponent(token).replaceAll("~1", "/").replaceAll("~0", "~");
		const current = asSchema(node);
		if (current === undefined) return undefined;
		node = current[key];
	}
	return asSchema(node) ?? (Array.isArray(node) ? (node as unknown as Schema) : undefined);
}

/**
 * Renders Twofold's OpenAPI document as TypeScript: one entry per operation,
 * keyed "METHOD /path", with its JSON body, query and success response. The
 * SDK's client is typed from this file, and a test regenerates it from the
 * running server's document, so the two cannot drift apart.
 */
const ANNOTATIONS = new Set(["description", "title", "$id", "examples", "default", "format", "pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems"]);

/** The document's components.schemas, for $ref "#/components/schemas/<name>" (named schemas are written out in place). */
let components = {};

function render(schema, indent) {
	if (schema?.$ref !== undefined) {
		const name = schema.$ref.replace(/^#\/components\/schemas\//, "");
		if (components[name] === undefined) throw new Error(`unresolved $ref ${schema.$ref}`);
		return render(components[name], indent);
	}
	if (schema === undefined || Object.keys(schema).every((key) => ANNOTATIONS.has(key))) return "unknown";
	if (schema.anyOf !== undefined || schema.oneOf !== undefined) return (schema.anyOf ?? schema.oneOf).map((s) => render(s, indent)).join(" | ");
	if (schema.enum !== undefined) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
	if (schema.const !== undefined) return JSON.stringify(schema.const);
	switch (schema.type) {
		case "string":
			return "string";
		case "integer":
		case "number":
			return "number";
		case "boolean":
			return "boolean";
		case "null":
			return "null";
		case "array":
			return `Array<${render(schema.items, indent)}>`;
		case "object": {
			const required = new Set(schema.required ?? []);
			const lines = Object.entries(schema.properties ?? {}).map(
				([name, property]) => `${indent}\t${JSON.stringify(name)}${required.has(name) ? "" : "?"}: ${render(property, `${indent}\t`)};`,
			);
			const extra = typeof schema.additionalProperties === "object" ? schema.additionalProperties : Object.values(schema.patternProperties ?? {})[0];
			if (extra !== undefined) lines.push(`${indent}\t[key: string]: ${render(extra, `${indent}\t`)};`);
			if (lines.length === 0) return schema.additionalProperties === false ? "Record<string, never>" : "{ [key: string]: unknown }";
			return `{\n${lines.join("\n")}\n${indent}}`;
		}
		default:
			return "unknown";
	}
}

const json = (content) => content?.["application/json"]?.schema;

export function renderApiTypes(spec) {
	components = spec.components?.schemas ?? {};
	const entries = [];
	for (const [path, operations] of Object.entries(spec.paths).sort(([a], [b]) => a.localeCompare(b))) {
		for (const [method, operation] of Object.entries(operations).sort(([a], [b]) => a.localeCompare(b))) {
			const success = Object.entries(operation.responses ?? {}).find(([status]) => status.startsWith("2"));
			// A success without a body (204, or 202 declared as null) is void.
			const schema = success === undefined ? undefined : json(success[1].content);
			const response = schema === undefined || schema.type === "null" ? "void" : render(schema, "\t\t");
			const query = (operation.parameters ?? []).filter((p) => p.in === "query");
			const queryType = query.length === 0 ? "never" : `{\n${query.map((p) => `\t\t\t${JSON.stringify(p.name)}${p.required ? "" : "?"}: ${render(p.schema, "\t\t\t")};`).join("\n")}\n\t\t}`;
			const body = operation.requestBody === undefined ? "never" : render(json(operation.requestBody.content), "\t\t");
			entries.push(`\t${JSON.stringify(`${method.toUpperCase()} ${path}`)}: {\n\t\tbody: ${body};\n\t\tquery: ${queryType};\n\t\tresponse: ${response};\n\t};`);
		}
	}
	return `// Generated from Twofold's OpenAPI document by packages/sdk/scripts/generate-types.mjs (npm run generate:sdk-types).
// Do not edit: a test regenerates it from the server and fails on any difference.
export interface Operations {
${entries.join("\n")}
}
`;
}

import { join, relative } from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * Issue 14: the HTTP edge is typed from the contract. Every route under src/http/routes gets the TypeBox type
 * provider, so the request parts its schema declares (body, params, querystring) are inferred from
 * contract/schemas, and the handler's answer is checked against the response schemas. Checked on the
 * type-checked program of the server (tests excluded), as the build sees it:
 *
 * 1. for each route (`app.get/post/put/patch/delete(path, { schema }, handler)`), each part the schema declares
 *    has, on the handler's request, a type that is neither `unknown` nor `any` (a plugin typed as a plain
 *    FastifyPluginAsync would give `unknown`, and a cast would hide it again);
 * 2. no route casts a request part (`request.body as …`): the inferred type is the contract's.
 */
const server = new URL("../", import.meta.url).pathname;
const ROUTES = join(server, "src/http/routes/");
const METHODS = new Set(["get", "post", "put", "patch", "delete"]);
/** The schema keys of a route and the request property each one types. */
const PARTS: Record<string, string> = { body: "body", params: "params", querystring: "query" };

let program: ts.Program;
let routeFiles: ts.SourceFile[];

beforeAll(() => {
	const parsed = ts.getParsedCommandLineOfConfigFile(join(server, "tsconfig.json"), {}, {
		...ts.sys,
		onUnRecoverableConfigFileDiagnostic: (d) => {
			throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
		},
	});
	if (parsed === undefined) throw new Error("cannot read packages/server/tsconfig.json");
	program = ts.createProgram(parsed.fileNames, { ...parsed.options, noEmit: true });
	routeFiles = program.getSourceFiles().filter((file) => file.fileName.startsWith(ROUTES));
});

interface Route {
	where: string;
	parts: string[];
	handler: ts.Expression;
}

/** The routes of a file: calls app.<method>(path, options, handler) whose options carry an inline schema object. */
function routes(file: ts.SourceFile): Route[] {
	const found: Route[] = [];
	const visit = (node: ts.Node): void => {
		if (
			ts.isCallExpression(node) &&
			ts.isPropertyAccessExpression(node.expression) &&
			METHODS.has(node.expression.name.text) &&
			node.arguments.length === 3 &&
			ts.isObjectLiteralExpression(node.arguments[1]!)
		) {
			const schema = property(node.arguments[1], "schema");
			const parts = schema !== undefined && ts.isObjectLiteralExpression(schema) ? Object.keys(PARTS).filter((key) => property(schema, key) !== undefined) : [];
			const path = node.arguments[0]!;
			const { line } = file.getLineAndCharacterOfPosition(node.getStart());
			found.push({ where: `${relative(server, file.fileName)}:${line + 1} ${ts.isStringLiteral(path) ? path.text : path.getText()}`, parts, handler: node.arguments[2]! });
		}
		ts.forEachChild(node, visit);
	};
	visit(file);
	return found;
}

function property(object: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
	for (const element of object.properties) {
		if (ts.isPropertyAssignment(element) && element.name.getText() === name) return element.initializer;
		if (ts.isShorthandPropertyAssignment(element) && element.name.text === name) return element.name;
	}
	return undefined;
}

/** The request type the handler is called with, from its contextual type (so a handler that ignores request is checked too). */
function requestType(checker: ts.TypeChecker, handler: ts.Expression): ts.Type {
	const contextual = checker.getContextualType(handler);
	if (contextual === undefined) throw new Error(`no contextual type for the handler at ${handler.getText().slice(0, 40)}`);
	const signature = checker.getSignaturesOfType(checker.getNonNullableType(contextual), ts.SignatureKind.Call)[0];
	const parameter = signature?.getParameters()[0];
	if (parameter === undefined) throw new Error("the handler's contextual type takes no request");
	return checker.getTypeOfSymbolAtLocation(parameter, handler);
}

const UNTYPED = ts.TypeFlags.Any | ts.TypeFlags.Unknown;

describe("the HTTP edge is typed from the contract (issue 14)", () => {
	it("the build sees no type error in the route files", () => {
		const errors = routeFiles.flatMap((file) => ts.getPreEmitDiagnostics(program, file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
		expect(errors).toEqual([]);
	});

	it("every request part a route's schema declares is inferred, never unknown or any", () => {
		const checker = program.getTypeChecker();
		const untyped: string[] = [];
		let checked = 0;
		for (const file of routeFiles) {
			for (const route of routes(file)) {
				if (route.parts.length === 0) continue;
				const request = requestType(checker, route.handler);
				for (const part of route.parts) {
					const symbol = checker.getPropertyOfType(request, PARTS[part]!);
					const type = symbol === undefined ? undefined : checker.getTypeOfSymbolAtLocation(symbol, route.handler);
					checked++;
					if (type === undefined || (type.flags & UNTYPED) !== 0) untyped.push(`${route.where}: request.${PARTS[part]} is ${type === undefined ? "missing" : checker.typeToString(type)}`);
				}
			}
		}
		expect(untyped).toEqual([]);
		// The routes with a body, params or query string today (factors, users, verifications, webhooks, events, tenant, assertions).
		expect(checked).toBeGreaterThanOrEqual(25);
	});

	it("no route casts a request part", () => {
		const casts: string[] = [];
		for (const file of routeFiles) {
			const visit = (node: ts.Node): void => {
				if ((ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) && /^request\.(body|params|query)\b/.test(node.expression.getText())) {
					casts.push(`${relative(server, file.fileName)}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.getText()}`);
				}
				ts.forEachChild(node, visit);
			};
			visit(file);
		}
		expect(casts).toEqual([]);
	});
});

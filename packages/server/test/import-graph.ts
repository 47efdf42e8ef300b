import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

/**
 * The import graph of a source tree, read from the syntax (TypeScript's parser, no type checking): every
 * `import … from "…"`, side-effect `import "…"`, `export … from "…"`, dynamic `import("…")` and type-position
 * `import("…").T`. Relative specifiers are resolved to files (`./x.js` is `./x.ts`, as NodeNext writes it);
 * bare ones (`node:fs`, `fastify`) are kept as packages. The architecture test judges this graph (issue 14).
 */
export interface ImportEdge {
	/** Paths relative to the root, with `/`. */
	from: string;
	to: string;
	/**
	 * Erased at run time: `import type`, `export type … from`, a type-position `import("…")`. Under
	 * verbatimModuleSyntax `import { type A }` still loads the module (as `import {} from`), so it is not.
	 */
	typeOnly: boolean;
}

export interface ImportGraph {
	/** Every .ts and .tsx file under the root, tests included, relative, sorted. */
	files: string[];
	/** Imports of files under the root. */
	edges: ImportEdge[];
	/** Imports of packages: the bare specifiers each file names. */
	packages: Map<string, string[]>;
	/** Relative imports that name no file, and dynamic imports of a computed name: the graph would miss them. */
	unresolved: string[];
}

function tsFiles(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
		entry.isDirectory() ? tsFiles(join(dir, entry.name)) : /\.tsx?$/.test(entry.name) ? [join(dir, entry.name)] : [],
	);
}

const posix = (path: string): string => path.split(sep).join("/");

function resolveRelative(importer: string, specifier: string): string | undefined {
	const target = resolve(dirname(importer), specifier);
	// A `.js` specifier names the `.ts` or `.tsx` file tsc compiles to it.
	const candidates = [target.replace(/\.js$/, ".ts"), target.replace(/\.js$/, ".tsx"), target, join(target, "index.ts")];
	return candidates.find((file) => existsSync(file) && statSync(file).isFile());
}

/** What one file imports: specifier, whether only types, and the line (for the unresolved list). */
function importsOf(file: string): { specifier: string | undefined; typeOnly: boolean; line: number }[] {
	const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
	const found: { specifier: string | undefined; typeOnly: boolean; line: number }[] = [];
	const add = (node: ts.Node, literal: ts.Expression | undefined, typeOnly: boolean): void => {
		const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
		found.push({ specifier: literal !== undefined && ts.isStringLiteralLike(literal) ? literal.text : undefined, typeOnly, line });
	};
	const visit = (node: ts.Node): void => {
		if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, node.importClause?.isTypeOnly === true);
		else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) add(node, node.moduleSpecifier, node.isTypeOnly);
		else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression, node.isTypeOnly);
		else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0], false);
		else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal, true);
		ts.forEachChild(node, visit);
	};
	visit(source);
	return found;
}

export function importGraph(root: string): ImportGraph {
	const files = tsFiles(root).sort();
	const graph: ImportGraph = { files: files.map((file) => posix(relative(root, file))), edges: [], packages: new Map(), unresolved: [] };
	for (const file of files) {
		const from = posix(relative(root, file));
		const packages: string[] = [];
		for (const { specifier, typeOnly, line } of importsOf(file)) {
			if (specifier === undefined) {
				graph.unresolved.push(`${from}: import() of a computed name`);
			} else if (specifier.startsWith(".")) {
				const target = resolveRelative(file, specifier);
				if (target === undefined) graph.unresolved.push(`${from}:${line}: "${specifier}" names no file`);
				else graph.edges.push({ from, to: posix(relative(root, target)), typeOnly });
			} else {
				packages.push(specifier);
			}
		}
		graph.packages.set(from, packages);
	}
	return graph;
}

/**
 * The import cycles: each strongly connected component of more than one file (or a file importing itself),
 * as one concrete cycle through it, `a → b → … → a`, starting at its first file in sorted order.
 */
export function importCycles(edges: readonly ImportEdge[]): { files: string[]; cycle: string[] }[] {
	const next = new Map<string, string[]>();
	for (const edge of edges) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
	// Tarjan's algorithm, iterative over a sorted node list so the output is stable.
	const index = new Map<string, number>();
	const low = new Map<string, number>();
	const stack: string[] = [];
	const onStack = new Set<string>();
	const components: string[][] = [];
	let counter = 0;
	const connect = (node: string): void => {
		index.set(node, counter);
		low.set(node, counter);
		counter += 1;
		stack.push(node);
		onStack.add(node);
		for (const target of next.get(node) ?? []) {
			if (!index.has(target)) {
				connect(target);
				low.set(node, Math.min(low.get(node)!, low.get(target)!));
			} else if (onStack.has(target)) {
				low.set(node, Math.min(low.get(node)!, index.get(target)!));
			}
		}
		if (low.get(node) === index.get(node)) {
			const component: string[] = [];
			let member: string;
			do {
				member = stack.pop()!;
				onStack.delete(member);
				component.push(member);
			} while (member !== node);
			if (component.length > 1 || (next.get(node) ?? []).includes(node)) components.push(component.sort());
		}
	};
	for (const node of [...next.keys()].sort()) if (!index.has(node)) connect(node);
	return components.map((files) => ({ files, cycle: shortestCycle(files[0]!, new Set(files), next) }));
}

/** The shortest path from start back to itself inside the component (breadth first). */
function shortestCycle(start: string, inside: ReadonlySet<string>, next: ReadonlyMap<string, string[]>): string[] {
	const previous = new Map<string, string>();
	const queue = [start];
	while (queue.length > 0) {
		const node = queue.shift()!;
		for (const target of [...(next.get(node) ?? [])].sort()) {
			if (!inside.has(target)) continue;
			if (target === start) {
				const path = [start];
				for (let at = node; at !== start; at = previous.get(at)!) path.splice(1, 0, at);
				return [...path, start];
			}
			if (!previous.has(target)) {
				previous.set(target, node);
				queue.push(target);
			}
		}
	}
	return [start, start];
}

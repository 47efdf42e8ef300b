import { type CodeOptions, codeDecider, type Decision, type StepUpOptions, stepUpDecider } from "./step-up.js";

/** The parts of Fastify's request and reply the hooks use. */
export interface FastifyRequestLike {
	headers: Record<string, string | string[] | undefined>;
}
export interface FastifyReplyLike {
	code(status: number): this;
	header(name: string, value: string): this;
	send(body: unknown): unknown;
}

const reader =
	(request: FastifyRequestLike) =>
	(name: string): string | undefined => {
		const value = request.headers[name];
		return Array.isArray(value) ? value[0] : value;
	};

const claimsOf = new WeakMap<object, unknown>();
/** The verified claims of a request that passed requireStepUp. */
export function stepUpClaims<Claims = import("./verify-assertion.js").StepUpClaims>(request: object): Claims | undefined {
	return claimsOf.get(request) as Claims | undefined;
}

/** An async hook that answered returns the reply, so Fastify stops there (its hooks documentation). */
function apply<Reply extends FastifyReplyLike>(decision: Decision, request: FastifyRequestLike, reply: Reply): Reply | undefined {
	if (decision.ok) {
		if (decision.claims !== undefined) claimsOf.set(request, decision.claims);
		return undefined;
	}
	reply.code(decision.status);
	for (const [name, value] of Object.entries(decision.headers)) reply.header(name, value);
	reply.send(decision.body);
	return reply;
}

/**
 * Standard mode, as a preHandler hook: `{ preHandler: requireStepUp({...}) }`. Throws a TypeError naming the
 * option when the options are incomplete (docs/assertions.md), so a misconfiguration stops the start.
 */
export function requireStepUp<Request extends FastifyRequestLike>(options: StepUpOptions<Request>) {
	const decide = stepUpDecider(options);
	return async <Reply extends FastifyReplyLike>(request: Request, reply: Reply): Promise<Reply | undefined> => apply(await decide(request, reader(request)), request, reply);
}

/** Header mode, as a preHandler hook. */
export function requireCode<Request extends FastifyRequestLike>(options: CodeOptions<Request>) {
	const decide = codeDecider(options);
	return async <Reply extends FastifyReplyLike>(request: Request, reply: Reply): Promise<Reply | undefined> => apply(await decide(request, reader(request)), request, reply);
}
